// Peer identities: pods that no policy can tell apart share one (same namespace, labels and named
// ports); external addresses fall into CIDR classes by which policy CIDRs contain them.
import { bitsOf, canonicalJson, cidrLast, formatCidr, parseIp, rangeToCidrs, type Cidr, type Family } from '../base/pure.ts';
import type { Peer, PolicySet } from './model.ts';
import { matchesNamespace, matchesSelector } from './selector.ts';
import { peerMatches, type PeerView, type PodView } from './side.ts';
import { IDENTITY_WORLD, type IdentityEntry, type IpCacheEntry } from './tables.ts';

export interface PeerIdentity {
  id: number;
  /** The representative the compiler evaluates for every member. */
  view: PeerView;
  description: string;
  pods: PodView[];
}

export interface Identities {
  list: PeerIdentity[];
  byPod: Map<PodView, PeerIdentity>;
  ipcache: IpCacheEntry[];
  entries: IdentityEntry[];
}

const sortedJson = (o: Record<string, string>) =>
  JSON.stringify(
    Object.keys(o)
      .sort()
      .map((k) => [k, o[k]]),
  );

/** `networks`: the CIDR peers that match pods by IP; pods they tell apart get different identities. */
function podSignature(v: PodView, networks: Peer[]): string {
  const ports = v.pod.ports.map((p) => `${p.name ?? ''}/${p.protocol}/${p.containerPort}`).sort();
  const inside = networks.map((p) => (peerMatches(p, { kind: 'pod', view: v }) ? '1' : '0')).join('');
  return `${v.pod.namespace}\0${sortedJson(v.pod.labels)}\0${ports.join(',')}\0${inside}`;
}

function cidrPeers(set: PolicySet): Peer[] {
  const out: Peer[] = [];
  const all = [...set.admin, ...set.network, ...set.baseline];
  for (const p of all) for (const r of [...p.ingress, ...p.egress]) for (const peer of r.peers ?? []) if (peer.type === 'cidr') out.push(peer);
  return out;
}

export function buildIdentities(set: PolicySet, pods: PodView[]): Identities {
  const list: PeerIdentity[] = [];
  const byPod = new Map<PodView, PeerIdentity>();
  const world: PeerIdentity = { id: IDENTITY_WORLD, view: { kind: 'ip', ip: null }, description: 'world', pods: [] };
  list.push(world);

  // `networks` peers match pods by IP: pods they tell apart need identities of their own. The same
  // CIDRs written in many policies count once.
  const networks = pods.some((v) => (v.pod.ips ?? []).length > 0)
    ? [...new Map(cidrPeers(set).flatMap((p) => (p.type === 'cidr' && p.pods ? [[peerShape(p), p] as const] : []))).values()]
    : [];
  const groups = new Map<string, PodView[]>();
  for (const v of pods) {
    const sig = podSignature(v, networks);
    const g = groups.get(sig);
    if (g) g.push(v);
    else groups.set(sig, [v]);
  }
  let next = IDENTITY_WORLD + 1;
  for (const sig of [...groups.keys()].sort()) {
    const members = groups.get(sig) as PodView[];
    const id: PeerIdentity = {
      id: next++,
      view: { kind: 'pod', view: members[0] },
      description: `pods ${members.map((m) => `${m.pod.namespace}/${m.pod.name}`).join(', ')}`.slice(0, 200),
      pods: members,
    };
    list.push(id);
    for (const m of members) byPod.set(m, id);
  }

  // CIDR classes: cut each address family at every CIDR edge; atoms contained by the same CIDR
  // peers behave alike. Atoms in no CIDR are the world and need no ipcache entry.
  const peers = cidrPeers(set);
  const ipcache: IpCacheEntry[] = [];
  for (const family of [4, 6] as Family[]) {
    const cuts = new Set<bigint>([0n]);
    const end = 1n << BigInt(bitsOf(family));
    for (const p of peers) {
      if (p.type !== 'cidr') continue;
      for (const c of [...p.cidrs, ...p.except])
        if (c.family === family) {
          cuts.add(c.base);
          cuts.add(cidrLast(c) + 1n);
        }
    }
    const points = [...cuts].filter((x) => x < end).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    // Each CIDR peer as [first, last] address ranges of this family: containment is then two comparisons.
    const inFamily = (cs: Cidr[]) => cs.filter((c) => c.family === family).map((c): [bigint, bigint] => [c.base, cidrLast(c)]);
    // Peers with the same addresses (the same ipBlock written in many policies) count once.
    const unique = new Map<string, { k: number; inc: [bigint, bigint][]; exc: [bigint, bigint][] }>();
    for (const p of peers) {
      const inc = p.type === 'cidr' ? inFamily(p.cidrs) : [];
      if (p.type !== 'cidr' || inc.length === 0) continue;
      const exc = inFamily(p.except);
      const key = `${inc.join(';')}|${exc.join(';')}`;
      if (!unique.has(key)) unique.set(key, { k: unique.size, inc, exc });
    }
    const ranges = [...unique.values()];
    const within = (rs: [bigint, bigint][], v: bigint) => rs.some(([lo, hi]) => v >= lo && v <= hi);
    const classes = new Map<string, PeerIdentity>();
    let run: { lo: bigint; hi: bigint; id: PeerIdentity } | null = null;
    const flush = () => {
      if (run && run.id !== world) for (const c of rangeToCidrs(family, run.lo, run.hi)) ipcache.push({ cidr: formatCidr(c), identity: run.id.id });
    };
    points.forEach((lo, i) => {
      const hi = (i + 1 < points.length ? points[i + 1] : end) - 1n;
      // The same test as peerMatches on a cidr peer: in some cidr, in no except.
      const sig = ranges
        .filter((p) => within(p.inc, lo) && !within(p.exc, lo))
        .map((p) => p.k)
        .join(',');
      let id = sig === '' ? world : classes.get(sig);
      if (!id) {
        id = {
          id: next++,
          view: { kind: 'ip', ip: { family, value: lo } },
          description: `addresses like ${formatCidr({ family, base: lo, len: bitsOf(family) })}`,
          pods: [],
        };
        classes.set(sig, id);
        list.push(id);
      }
      if (run && run.id === id && run.hi + 1n === lo) run.hi = hi;
      else {
        flush();
        run = { lo, hi, id };
      }
    });
    flush();
  }
  // Pod addresses are host prefixes: longer than any class prefix, so the pod's identity wins.
  for (const v of pods)
    for (const text of v.pod.ips ?? []) {
      const ip = parseIp(text);
      if (ip) ipcache.push({ cidr: formatCidr({ family: ip.family, base: ip.value, len: bitsOf(ip.family) }), identity: (byPod.get(v) as PeerIdentity).id });
    }
  const entries = list.map((i) => ({ id: i.id, description: i.description }));
  return { list, byPod, ipcache, entries };
}

export interface Hits {
  /** In identity order. */
  list: PeerIdentity[];
  set: Set<PeerIdentity>;
}

/**
 * The identities a rule peer matches, memoized per Peer object. Pod peers are matched namespace by
 * namespace first (every identity is in one namespace), so a peer costs its namespaces, not all pods.
 */
export function peerHits(ids: Identities): (p: Peer) => Hits {
  const byNs = new Map<string, PeerIdentity[]>();
  const external: PeerIdentity[] = [];
  for (const i of ids.list) {
    if (i.view.kind !== 'pod') external.push(i);
    else {
      const ns = i.view.view.pod.namespace;
      const list = byNs.get(ns);
      if (list) list.push(i);
      else byNs.set(ns, [i]);
    }
  }
  const memo = new Map<Peer, Hits>();
  // Many policies write the same peer (the same team's namespaces, the same ipBlock): equal peers
  // share one Hits, so the compiler can tell them apart by object and count them once.
  const byShape = new Map<string, Hits>();
  const find = (p: Peer): PeerIdentity[] => {
    if (p.type === 'nodes' || p.type === 'domains') return [];
    if (p.type === 'cidr') {
      const hit = external.filter((i) => peerMatches(p, i.view));
      if (!p.pods) return hit;
      for (const members of byNs.values()) for (const i of members) if (peerMatches(p, i.view)) hit.push(i);
      return hit.sort((a, b) => a.id - b.id);
    }
    const out: PeerIdentity[] = [];
    // selects() split in two: the namespace once per namespace, then the pod selector per identity.
    for (const members of 'name' in p.namespaces ? [byNs.get(p.namespaces.name) ?? []] : byNs.values()) {
      const first = members[0]?.view;
      if (first?.kind !== 'pod' || !matchesNamespace(p.namespaces, first.view.pod.namespace, first.view.nsLabels)) continue;
      for (const i of members) if (i.view.kind === 'pod' && matchesSelector(p.pods, i.view.view.pod.labels)) out.push(i);
    }
    return out.sort((a, b) => a.id - b.id);
  };
  return (p) => {
    let h = memo.get(p);
    if (!h) {
      const shape = peerShape(p);
      h = byShape.get(shape);
      if (!h) {
        const list = find(p);
        byShape.set(shape, (h = { list, set: new Set(list) }));
      }
      memo.set(p, h);
    }
    return h;
  };
}

/** What a peer matches, as text: equal text, equal matches. */
function peerShape(p: Peer): string {
  switch (p.type) {
    case 'nodes':
    case 'domains':
      // Unresolved nodes (node-peers.ts resolves them first) and domainNames match nothing.
      return 'nothing';
    case 'pods':
      return `pods ${canonicalJson(p.namespaces)} ${canonicalJson(p.pods)}`;
    case 'cidr':
      return `cidr${p.pods ? '+pods' : ''} ${p.cidrs.map(formatCidr).join(',')} except ${p.except.map(formatCidr).join(',')}`;
  }
}
