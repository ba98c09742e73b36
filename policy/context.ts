// Per-(policies, inventory) lookups the evaluator needs for every flow, built once and cached:
// pods by `<namespace>/<name>`, namespace labels, and each pod's applicable rules per direction.
import { parseIp, WeftError, type Ip } from '../base/pure.ts';
import { podKey, type Inventory } from './inventory.ts';
import { NAMESPACE_NAME_LABEL } from './load.ts';
import type { Direction, Policy, PolicySet } from './model.ts';
import { resolveNodePeers } from './node-peers.ts';
import { matchesNamespace } from './selector.ts';
import { sideRules, type PodView, type SideRules } from './side.ts';

export type EndpointErrorCode = 'POLICY_UNKNOWN_ENDPOINT' | 'POLICY_BAD_FLOW';

/** A flow names an endpoint that is neither an IP address nor a pod or workload of the inventory. */
export class EndpointError extends WeftError<EndpointErrorCode> {
  override readonly name = 'EndpointError';
}

export interface Context {
  pods: Map<string, PodView>;
  rules(v: PodView, dir: Direction): SideRules;
}

export type Endpoint = { kind: 'pod'; view: PodView } | { kind: 'ip'; ip: Ip };

const cache = new WeakMap<PolicySet, WeakMap<Inventory, Context>>();

export function contextOf(policies: PolicySet, inventory: Inventory): Context {
  let byInv = cache.get(policies);
  if (!byInv) cache.set(policies, (byInv = new WeakMap()));
  let ctx = byInv.get(inventory);
  if (!ctx) byInv.set(inventory, (ctx = buildContext(resolveNodePeers(policies, inventory), inventory)));
  return ctx;
}

function buildContext(policies: PolicySet, inventory: Inventory): Context {
  const nsLabels = new Map(inventory.namespaces.map((n) => [n.name, n.labels]));
  const pods = new Map<string, PodView>();
  for (const pod of inventory.pods) {
    pods.set(podKey(pod), { pod, nsLabels: nsLabels.get(pod.namespace) ?? { [NAMESPACE_NAME_LABEL]: pod.namespace } });
  }
  // A NetworkPolicy selects pods of its own namespace only.
  const networkByNs = new Map<string, Policy[]>();
  for (const p of policies.network) {
    const ns = p.namespace as string;
    const list = networkByNs.get(ns);
    if (list) list.push(p);
    else networkByNs.set(ns, [p]);
  }
  // An ANP's subject names namespaces first: match those once per namespace, not once per pod.
  const adminByNs = new Map<string, Policy[]>();
  const adminOf = (v: PodView): Policy[] => {
    const ns = v.pod.namespace;
    let list = adminByNs.get(ns);
    if (!list) adminByNs.set(ns, (list = policies.admin.filter((p) => matchesNamespace(p.subject.namespaces, ns, v.nsLabels))));
    return list;
  };
  const memo = new Map<PodView, { ingress?: SideRules; egress?: SideRules }>();
  return {
    pods,
    rules(v, dir) {
      let m = memo.get(v);
      if (!m) memo.set(v, (m = {}));
      return (m[dir] ??= sideRules(policies, v, dir, networkByNs.get(v.pod.namespace) ?? [], adminOf(v)));
    },
  };
}

/** `<namespace>/<name>` of the inventory, or an IP address (an external endpoint, never a pod). */
export function resolveEndpoint(ctx: Context, e: string): Endpoint {
  if (typeof e !== 'string')
    throw new EndpointError('POLICY_BAD_FLOW', `endpoint ${JSON.stringify(e)} is not a string`, 'write "<namespace>/<name>" or an IP address');
  const ip = parseIp(e);
  if (ip) return { kind: 'ip', ip };
  const view = ctx.pods.get(e);
  if (!view)
    throw new EndpointError(
      'POLICY_UNKNOWN_ENDPOINT',
      `unknown endpoint "${e}"`,
      'name a pod or workload of the manifests as <namespace>/<name>, or give an IP address',
    );
  return { kind: 'pod', view };
}
