// `nodes` peers select Nodes by label, but the evaluator and the compiler match addresses. Before
// either runs, each nodes peer is replaced by a CIDR peer of the host prefixes of the Nodes it
// selects (their status.addresses): exact, since a CIDR peer never matches a pod and node addresses
// are not pod addresses. With no Node selected it is a CIDR peer of nothing, matching nothing.
import type { Inventory, NodeInfo } from './inventory.ts';
import { bitsOf, parseIp, type Cidr } from '../base/pure.ts';
import type { Peer, Policy, PolicySet, Rule } from './model.ts';
import { matchesSelector } from './selector.ts';

const memo = new WeakMap<PolicySet, WeakMap<Inventory, PolicySet>>();

/** The same set with every nodes peer resolved against `inventory.nodes`; the set itself when it has none. */
export function resolveNodePeers(set: PolicySet, inventory: Inventory): PolicySet {
  const policies = [...set.admin, ...set.baseline];
  if (!policies.some((p) => [...p.ingress, ...p.egress].some((r) => r.peers?.some((x) => x.type === 'nodes')))) return set;
  let byInv = memo.get(set);
  if (!byInv) memo.set(set, (byInv = new WeakMap()));
  let out = byInv.get(inventory);
  if (!out) {
    const nodes = inventory.nodes ?? [];
    const peer = (x: Peer): Peer =>
      x.type === 'nodes' ? { type: 'cidr', cidrs: hostPrefixes(nodes.filter((n) => matchesSelector(x.nodes, n.labels))), except: [] } : x;
    const rule = (r: Rule): Rule => (r.peers?.some((x) => x.type === 'nodes') ? { ...r, peers: r.peers.map(peer) } : r);
    const policy = (p: Policy): Policy => ({ ...p, ingress: p.ingress.map(rule), egress: p.egress.map(rule) });
    byInv.set(inventory, (out = { admin: set.admin.map(policy), network: set.network, baseline: set.baseline.map(policy) }));
  }
  return out;
}

function hostPrefixes(nodes: NodeInfo[]): Cidr[] {
  const out: Cidr[] = [];
  for (const n of nodes)
    for (const a of n.addresses) {
      const ip = parseIp(a);
      if (ip) out.push({ family: ip.family, base: ip.value, len: bitsOf(ip.family) });
    }
  return out;
}
