// The compiler: (policies, inventory) -> datapath tables (see tables.ts), in named steps:
//   1. endpoint views in pod order, peer identities (identities.ts), attribution ids (attributions.ts)
//   2. a rule set per distinct side (compile/rule-sets.ts): the policies that apply, the peer classes
//      they tell apart (compile/peer-classes.ts), each class's verdict per port segment evaluated by
//      side.ts (compile/port-function.ts), written as LPM entries only where they differ from the
//      set's default (compile/lpm-entries.ts)
//   3. the endpoint and ipcache tables, sizes checked against the map limits
// Tier precedence is thereby flattened: the kernel's longest-prefix match is the whole answer.
import { buildAttributions } from './attributions.ts';
import { compareCodeUnits } from '../base/pure.ts';
import { checkCapacity } from './capacity.ts';
import { FqdnPatterns } from './compile/fqdn-peers.ts';
import { PortSignatures } from './compile/port-signature.ts';
import { RuleSets } from './compile/rule-sets.ts';
import { RuleValues } from './compile/rule-values.ts';
import { contextOf } from './context.ts';
import { buildIdentities, peerHits, type PeerIdentity } from './identities.ts';
import { podKey, type Inventory } from './inventory.ts';
import { resolveNodePeers } from './node-peers.ts';
import type { PolicySet } from './model.ts';
import { DEFAULT_LIMITS, type EndpointEntry, type MapLimits, type Tables, type TableSizes } from './tables.ts';

export interface CompileOptions {
  limits?: MapLimits;
}

export function compile(given: PolicySet, inventory: Inventory, options: CompileOptions = {}): Tables {
  // nodes peers become the selected Nodes' addresses first: from here on a peer is pods or CIDRs.
  const policies = resolveNodePeers(given, inventory);
  const ctx = contextOf(policies, inventory);
  const views = [...ctx.pods.values()].sort((a, b) => compareCodeUnits(podKey(a.pod), podKey(b.pod)));
  const ids = buildIdentities(policies, views);
  const attributions = buildAttributions(policies);
  const fqdn = new FqdnPatterns();
  const sets = new RuleSets(ctx, { ids, fqdn, hits: peerHits(ids), values: new RuleValues(attributions.ids), portSignatures: new PortSignatures() });
  // Endpoints in pod order build the sets in id order, so rules come out in canonical order
  // (set, peer, protocol with null first, port, bits) without a sort.
  const endpoints: EndpointEntry[] = views.map((v, i) => ({
    endpointId: i + 1,
    pod: podKey(v.pod),
    ips: [...(v.pod.ips ?? [])],
    identity: (ids.byPod.get(v) as PeerIdentity).id,
    ingressSet: sets.setOf(v, 'ingress'),
    egressSet: sets.setOf(v, 'egress'),
  }));
  const ipcache = [...ids.ipcache].sort((a, b) => compareCodeUnits(a.cidr, b.cidr));
  const sizes: TableSizes = {
    endpoints: endpoints.length,
    ipcache: ipcache.length,
    sets: sets.sets.length,
    rules: sets.rules.length,
    identities: ids.entries.length,
    attributions: attributions.list.length,
  };
  checkCapacity(
    sizes,
    endpoints.reduce((n, e) => n + e.ips.length, 0),
    options.limits ?? DEFAULT_LIMITS,
  );
  return {
    version: 1,
    ...(fqdn.list.length > 0 && { fqdn: fqdn.list }),
    endpoints,
    ipcache,
    sets: sets.sets,
    rules: sets.rules,
    identities: ids.entries,
    attributions: attributions.list,
    sizes,
  };
}

/** Table sizes, as a report. */
export function tableSizes(t: Tables): TableSizes {
  return { ...t.sizes };
}
