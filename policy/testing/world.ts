// Test helper: YAML manifests -> loaded policies and inventory (failing loudly on invalid input).
import type { Protocol } from '../inventory.ts';
import { loadPolicies, type Loaded } from '../load.ts';
import type { RuleRef } from '../model.ts';
import { parseManifests } from '../parse.ts';
import type { Verdict } from '../verdict.ts';

export function load(yaml: string): Loaded {
  const parsed = parseManifests([{ file: 'test.yaml', text: yaml }]);
  const loaded = loadPolicies(parsed.objects);
  const errors = [...parsed.errors, ...loaded.errors];
  if (errors.length > 0) throw new Error(errors.map((e) => `${e.path}: ${e.message} (${e.code})`).join('\n'));
  return loaded;
}

export const flow = (src: string, dst: string, protocol: Protocol, port: number) => ({ src, dst, protocol, port });

/** Expected verdicts, written from the specification. */
export const allowed = { allowed: true } as const;
export const denied = { allowed: false } as const;

/** `ref('NetworkPolicy', 'ns/name', 'ingress[0]')`; `ref('Admin' | 'Baseline', name, rule, ruleName?)` for a ClusterNetworkPolicy. */
export function ref(kind: 'NetworkPolicy' | 'Admin' | 'Baseline', name: string, rule: string, ruleName?: string): RuleRef {
  if (kind !== 'NetworkPolicy') return { kind: 'ClusterNetworkPolicy', tier: kind, name, rule, ...(ruleName !== undefined && { ruleName }) };
  const slash = name.indexOf('/');
  return { kind, namespace: name.slice(0, slash), name: name.slice(slash + 1), rule };
}

export const pick = (v: Verdict) => ({ allowed: v.allowed });

import { compile } from '../compile.ts';
import { evaluate, type Flow } from '../evaluate.ts';
import { lookup } from '../lookup.ts';
import type { Tables } from '../tables.ts';

const compiled = new WeakMap<Loaded, Tables>();

/** The evaluator's verdict, after checking the compiled tables give the very same one. */
export function verdict(w: Loaded, f: Flow): Verdict {
  let t = compiled.get(w);
  if (!t) compiled.set(w, (t = compile(w.policies, w.inventory)));
  const v = evaluate(w.policies, w.inventory, f);
  const fromTables = lookup(t, f);
  if (JSON.stringify(fromTables) !== JSON.stringify(v))
    throw new Error(`tables disagree on ${JSON.stringify(f)}: ${JSON.stringify(fromTables)} vs ${JSON.stringify(v)}`);
  return v;
}
