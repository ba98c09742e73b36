// What-if: the reference evaluator applied to recorded flows, once with the policies in force today
// and once with a candidate set, to list the flows whose verdict would change: denied tomorrow but
// allowed today, and the reverse, grouped by the policy and rule that decides the change. Pure: the
// hub (POST /v1/policies/what-if) and `weft policy what-if` feed it the same data and get the same answer.
//
// A recorded flow is one side of a packet as the datapath saw it: at `endpoint` (a pod, namespace/name),
// ingress from `peer` or egress to it. Each is evaluated as that side alone (the peer as an address,
// or as a pod when the inventory names one). Pods the inventory does not know (the hub holds only what
// pushes carried) are evaluated with their namespace and no labels.
import { EndpointError } from './context.ts';
import { type Flow, evaluate } from './evaluate.ts';
import type { Inventory, PodInfo, Protocol } from './inventory.ts';
import { NAMESPACE_NAME_LABEL } from './load.ts';
import type { PolicySet } from './model.ts';
import type { DecidedBy, Verdict } from './verdict.ts';

export interface RecordedFlow {
  /** Where it was recorded (a site id); flows of different sites are evaluated with their own policies. */
  siteId: string;
  endpoint: string;
  direction: 'ingress' | 'egress';
  peer: string;
  protocol: Protocol;
  port: number;
  /** How many times it was seen in the window. */
  count: number;
}

export interface Policies {
  policies: PolicySet;
  inventory: Inventory;
}

export interface WhatIfFlow extends RecordedFlow {
  /** "Kind/namespace/name" (or "Kind/name"), the flows API's form; "default-allow" / "default-deny" when no rule decided. */
  todayPolicy: string;
  todayRule: string;
  nextPolicy: string;
  nextRule: string;
}

export interface WhatIfGroup {
  policy: string;
  rule: string;
  flows: WhatIfFlow[];
}

export interface WhatIfResult {
  /** Allowed today, denied by the candidate: grouped by the candidate's denying rule. */
  newlyDenied: WhatIfGroup[];
  /** Denied today, allowed by the candidate: grouped by today's denying rule. */
  newlyAllowed: WhatIfGroup[];
  evaluated: number;
}

export function policyName(d: DecidedBy): { policy: string; rule: string } {
  if (typeof d === 'string') return { policy: d, rule: '—' };
  return { policy: `${d.kind}/${d.namespace ? `${d.namespace}/` : ''}${d.name}`, rule: d.rule };
}

/** The inventory plus every pod the flows name that it lacks (its namespace, no labels). */
export function withEndpoints(inv: Inventory, endpoints: Iterable<string>): Inventory {
  const pods = new Map(inv.pods.map((p) => [`${p.namespace}/${p.name}`, p]));
  const namespaces = new Map(inv.namespaces.map((n) => [n.name, n]));
  for (const e of endpoints) {
    const slash = e.indexOf('/');
    if (slash <= 0 || pods.has(e)) continue;
    const p: PodInfo = { namespace: e.slice(0, slash), name: e.slice(slash + 1), labels: {}, ports: [] };
    pods.set(e, p);
    if (!namespaces.has(p.namespace)) namespaces.set(p.namespace, { name: p.namespace, labels: { [NAMESPACE_NAME_LABEL]: p.namespace } });
  }
  return { namespaces: [...namespaces.values()], pods: [...pods.values()] };
}

function verdictOf(p: Policies, f: RecordedFlow): Verdict | null {
  const flow: Flow =
    f.direction === 'ingress'
      ? { src: f.peer, dst: f.endpoint, protocol: f.protocol, port: f.port }
      : { src: f.endpoint, dst: f.peer, protocol: f.protocol, port: f.port };
  try {
    return evaluate(p.policies, p.inventory, flow);
  } catch (e) {
    if (e instanceof EndpointError) return null; // a peer that is neither an address nor a known pod: not judged
    throw e;
  }
}

function group(flows: WhatIfFlow[], by: (f: WhatIfFlow) => [string, string]): WhatIfGroup[] {
  const groups = new Map<string, WhatIfGroup>();
  for (const f of flows) {
    const [policy, rule] = by(f);
    const k = `${policy}\u0000${rule}`;
    const g = groups.get(k) ?? { policy, rule, flows: [] };
    g.flows.push(f);
    groups.set(k, g);
  }
  return [...groups.values()].sort((a, b) => b.flows.length - a.flows.length || (a.policy + a.rule < b.policy + b.rule ? -1 : 1));
}

/** Flows whose verdict changes from `today(site)` to `next(site)`. */
export function whatIf(flows: readonly RecordedFlow[], today: (siteId: string) => Policies, next: (siteId: string) => Policies): WhatIfResult {
  const denied: WhatIfFlow[] = [];
  const allowed: WhatIfFlow[] = [];
  let evaluated = 0;
  for (const f of flows) {
    const before = verdictOf(today(f.siteId), f);
    const after = verdictOf(next(f.siteId), f);
    if (!before || !after) continue;
    evaluated++;
    if (before.allowed === after.allowed) continue;
    const t = policyName(before.decidedBy);
    const n = policyName(after.decidedBy);
    const row: WhatIfFlow = { ...f, todayPolicy: t.policy, todayRule: t.rule, nextPolicy: n.policy, nextRule: n.rule };
    (after.allowed ? allowed : denied).push(row);
  }
  return {
    newlyDenied: group(denied, (f) => [f.nextPolicy, f.nextRule]),
    newlyAllowed: group(allowed, (f) => [f.todayPolicy, f.todayRule]),
    evaluated,
  };
}
