// Attribution ids: every rule of every policy (and each NetworkPolicy's implicit isolation) gets
// a stable small number, so a kernel drop can name its policy and rule. 0 is the default allow.
import type { Policy, PolicySet, RuleRef } from './model.ts';
import type { Attribution } from './tables.ts';

export const DEFAULT_ATTRIBUTION: Attribution = { id: 0, kind: 'default', name: 'default-allow', rule: 'default', action: 'Accept', audit: false };

export function refKey(r: RuleRef): string {
  return `${r.kind}\0${r.namespace ?? ''}\0${r.name}\0${r.rule}`;
}

export function buildAttributions(set: PolicySet): { list: Attribution[]; ids: Map<string, number> } {
  const list: Attribution[] = [DEFAULT_ATTRIBUTION];
  const ids = new Map<string, number>();
  const add = (p: Policy, rule: string, action: Attribution['action'], ruleName?: string) => {
    const a: Attribution = { id: list.length, kind: p.kind, name: p.name, rule, action, audit: p.audit };
    if (p.tier !== undefined) a.tier = p.tier;
    if (p.namespace !== undefined) a.namespace = p.namespace;
    if (ruleName !== undefined) a.ruleName = ruleName;
    ids.set(refKey({ kind: p.kind, namespace: p.namespace, name: p.name, rule }), a.id);
    list.push(a);
  };
  for (const p of [...set.admin, ...set.network, ...set.baseline]) {
    for (const r of [...p.ingress, ...p.egress]) add(p, r.label, r.action, r.ruleName);
    if (p.kind === 'NetworkPolicy') add(p, 'isolation', 'Isolate');
  }
  return { list, ids };
}

/** The RuleRef an attribution stands for; null for the default. */
export function refOf(a: Attribution): RuleRef | null {
  if (a.kind === 'default') return null;
  return {
    kind: a.kind,
    ...(a.tier !== undefined && { tier: a.tier }),
    ...(a.namespace !== undefined && { namespace: a.namespace }),
    name: a.name,
    rule: a.rule,
    ...(a.ruleName !== undefined && { ruleName: a.ruleName }),
  };
}
