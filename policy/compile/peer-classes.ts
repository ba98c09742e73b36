// Peer classes of one rule set: a peer's verdicts depend only on which of the set's rule peers
// match it (and, for egress, on its own named ports, which the set's named port rules resolve
// against), so identities are refined into classes alike in that and each class is evaluated once.
// Class 0, matched by no rule peer, behaves as the world (the generic peer).
import type { Hits, Identities, PeerIdentity } from '../identities.ts';
import type { Peer, Rule } from '../model.ts';
import type { NamedPort } from './port-cuts.ts';
import type { PortSignatures } from './port-signature.ts';

export type PeerClass = number;

export interface PeerClassInput {
  rules: readonly Rule[];
  /** The set's named port rules when they resolve against the peer (egress), else empty. */
  peerNamed: readonly NamedPort[];
  ids: Identities;
  hits: (p: Peer) => Hits;
  portSignatures: PortSignatures;
}

export interface PeerClasses {
  /** The class of every identity outside class 0. */
  classOf: Map<PeerIdentity, PeerClass>;
  /** What the set's rule peers match, each distinct match once. */
  rulePeers: Hits[];
}

export function peerClasses(input: PeerClassInput): PeerClasses {
  const classOf = new Map<PeerIdentity, PeerClass>();
  const refine = refiner();
  // Peers that match the same identities (equal peers share their Hits) refine once.
  const rulePeers = [...new Set(input.rules.flatMap((rule) => (rule.peers ?? []).map(input.hits)))];
  for (let k = 0; k < rulePeers.length; k++) {
    for (const i of rulePeers[k].list) classOf.set(i, refine(classOf.get(i) ?? 0, k));
  }
  if (input.peerNamed.length > 0) {
    const names = new Set(input.peerNamed.map((s) => s.name));
    for (const i of input.ids.list) {
      if (i.view.kind !== 'pod') continue;
      const sig = input.portSignatures.ofNamed(i.view.view.pod.ports, names);
      // Symbols after the rule peers' own.
      if (sig !== null) classOf.set(i, refine(classOf.get(i) ?? 0, rulePeers.length + sig));
    }
  }
  return { classOf, rulePeers };
}

/** Partition refinement: (class, symbol) -> a finer class, numbered from 1 as they appear. */
function refiner(): (cls: PeerClass, symbol: number) => PeerClass {
  const next = new Map<PeerClass, Map<number, PeerClass>>();
  let count = 0;
  return (cls, symbol) => {
    let m = next.get(cls);
    if (!m) next.set(cls, (m = new Map()));
    let c = m.get(symbol);
    if (c === undefined) m.set(symbol, (c = ++count));
    return c;
  };
}
