// The compiler: (policies, inventory) -> datapath tables (see tables.ts). For each endpoint and
// direction it finds the policies that apply; endpoints with the same ones share a rule set. For
// each set it evaluates side.ts on one representative per peer identity and per port segment, and
// writes only what differs from the set's default as LPM entries. Tier precedence is thereby
// flattened: the kernel's longest-prefix match is the whole answer.
import { buildAttributions, refKey } from './attributions.ts';
import { checkCapacity } from './capacity.ts';
import { contextOf } from './context.ts';
import { buildIdentities, type PeerIdentity } from './identities.ts';
import { podKey, type Inventory, type Protocol } from './inventory.ts';
import type { Direction, Peer, PolicySet, RuleRef } from './model.ts';
import { portBlocks } from './port-blocks.ts';
import { decideSide, isEmpty, peerMatches, type PeerView, type PodView, type SideOutcome, type SideRules } from './side.ts';
import {
  DEFAULT_LIMITS, PROTO_SCTP, PROTO_TCP, PROTO_UDP, SET_NONE, VERDICT_ALLOW, VERDICT_DENY,
  type EndpointEntry, type MapLimits, type RuleEntry, type RuleValue, type SetEntry, type Tables, type TableSizes,
} from './tables.ts';

export const PROTO_NUMBERS: Record<Protocol, number> = { TCP: PROTO_TCP, UDP: PROTO_UDP, SCTP: PROTO_SCTP };
const PROTOS: Protocol[] = ['TCP', 'UDP', 'SCTP'];

/** A side's verdict over every protocol and port for one peer: port segments per protocol, and the rest. */
interface PortFunction {
  other: RuleValue;
  segments: Record<Protocol, { from: number; to: number; value: RuleValue }[]>;
}

const sameValue = (a: RuleValue, b: RuleValue) => a.verdict === b.verdict && a.ruleId === b.ruleId && a.auditRuleId === b.auditRuleId;

function isConstant(f: PortFunction): boolean {
  return PROTOS.every((p) => f.segments[p].length === 1 && sameValue(f.segments[p][0].value, f.other));
}

export interface CompileOptions {
  limits?: MapLimits;
}

export function compile(policies: PolicySet, inventory: Inventory, options: CompileOptions = {}): Tables {
  const ctx = contextOf(policies, inventory);
  const views = [...ctx.pods.values()].sort((a, b) => cmp(podKey(a.pod), podKey(b.pod)));
  const ids = buildIdentities(policies, views);
  const attributions = buildAttributions(policies);
  const idOf = (r: RuleRef | null) => (r ? (attributions.ids.get(refKey(r)) as number) : 0);
  const valueOf = (o: SideOutcome): RuleValue => ({ verdict: o.allowed ? VERDICT_ALLOW : VERDICT_DENY, ruleId: idOf(o.by), auditRuleId: idOf(o.audit) });

  // Which identities a peer of a rule matches: computed once per Peer object, shared by every set.
  const peerHits = new Map<Peer, PeerIdentity[]>();
  const hitsOf = (p: Peer) => {
    let h = peerHits.get(p);
    if (!h) peerHits.set(p, (h = ids.list.filter((i) => peerMatches(p, i.view))));
    return h;
  };

  const sets: SetEntry[] = [];
  const rules: RuleEntry[] = [];
  const setIds = new Map<string, number>();

  const setFor = (v: PodView, dir: Direction): number => {
    const r = ctx.rules(v, dir);
    if (isEmpty(r)) return SET_NONE;
    const named = usesNamedPorts(r, dir);
    const key = `${dir}\0${r.admin.map((p) => p.name).join(',')}\0${r.network.map((p) => podKey({ namespace: p.namespace ?? '', name: p.name })).join(',')}\0${r.baseline ? 1 : 0}\0${dir === 'ingress' && named ? portSig(v) : ''}`;
    const known = setIds.get(key);
    if (known !== undefined) return known;
    const id = buildSet(v, dir, r, named, sets.length + 1);
    setIds.set(key, id);
    return id;
  };

  const buildSet = (self: PodView, dir: Direction, r: SideRules, named: boolean, id: number): number => {
    const fn = (peer: PeerView): PortFunction => portFunction(r, dir, self, peer, valueOf);
    const generic = fn({ kind: 'ip', ip: null });
    const dflt = generic.other;
    // Peers that a rule names, or (egress) that own a named port a rule uses; the rest behave as the generic peer.
    const touched = new Set<PeerIdentity>();
    for (const p of [...r.admin, ...r.network, ...(r.baseline ? [r.baseline] : [])]) for (const rule of p[dir]) for (const peer of rule.peers ?? []) for (const i of hitsOf(peer)) touched.add(i);
    if (dir === 'egress' && named) {
      const names = namedPorts(r, dir);
      for (const i of ids.list) if (i.view.kind === 'pod' && i.view.view.pod.ports.some((cp) => cp.name !== undefined && names.has(cp.name))) touched.add(i);
    }
    const genericConstant = isConstant(generic);
    const entries: RuleEntry[] = [];
    for (const peer of ids.list) {
      if (!touched.has(peer) && genericConstant) continue;
      const f = touched.has(peer) ? fn(peer.view) : generic;
      emit(entries, id, peer.id, f, dflt);
    }
    if (entries.length === 0 && sameValue(dflt, { verdict: VERDICT_ALLOW, ruleId: 0, auditRuleId: 0 })) return SET_NONE;
    sets.push({ id, direction: dir, default: dflt });
    rules.push(...entries);
    return id;
  };

  const endpoints: EndpointEntry[] = views.map((v, i) => ({
    endpointId: i + 1,
    pod: podKey(v.pod),
    ips: [...(v.pod.ips ?? [])],
    identity: (ids.byPod.get(v) as PeerIdentity).id,
    ingressSet: setFor(v, 'ingress'),
    egressSet: setFor(v, 'egress'),
  }));
  // Sets that turned out to be the default allow took no id; renumber densely in creation order.
  const renumber = new Map<number, number>([[SET_NONE, SET_NONE]]);
  sets.forEach((s, i) => renumber.set(s.id, i + 1));
  for (const s of sets) s.id = renumber.get(s.id) as number;
  for (const e of rules) e.set = renumber.get(e.set) as number;
  for (const e of endpoints) {
    e.ingressSet = renumber.get(e.ingressSet) as number;
    e.egressSet = renumber.get(e.egressSet) as number;
  }
  rules.sort((a, b) => a.set - b.set || a.peer - b.peer || (a.proto ?? -1) - (b.proto ?? -1) || a.portBits - b.portBits || a.port - b.port);
  const ipcache = [...ids.ipcache].sort((a, b) => cmp(a.cidr, b.cidr));
  const sizes: TableSizes = { endpoints: endpoints.length, ipcache: ipcache.length, sets: sets.length, rules: rules.length, identities: ids.entries.length, attributions: attributions.list.length };
  checkCapacity(sizes, endpoints.reduce((n, e) => n + e.ips.length, 0), options.limits ?? DEFAULT_LIMITS);
  return { version: 1, endpoints, ipcache, sets, rules, identities: ids.entries, attributions: attributions.list, sizes };
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function portSig(v: PodView): string {
  return v.pod.ports.map((p) => `${p.name ?? ''}/${p.protocol}/${p.containerPort}`).sort().join(',');
}

function allRules(r: SideRules, dir: Direction) {
  return [...r.admin, ...r.network, ...(r.baseline ? [r.baseline] : [])].flatMap((p) => p[dir]);
}

function namedPorts(r: SideRules, dir: Direction): Set<string> {
  const names = new Set<string>();
  for (const rule of allRules(r, dir)) for (const s of rule.ports ?? []) if (s.type === 'named') names.add(s.name);
  return names;
}

function usesNamedPorts(r: SideRules, dir: Direction): boolean {
  return namedPorts(r, dir).size > 0;
}

/** Evaluates the side once per port segment: cut at every port edge the rules (and resolved named ports) name. */
function portFunction(r: SideRules, dir: Direction, self: PodView, peer: PeerView, valueOf: (o: SideOutcome) => RuleValue): PortFunction {
  const dst = dir === 'ingress' ? self.pod : peer.kind === 'pod' ? peer.view.pod : null;
  const segments = {} as PortFunction['segments'];
  for (const proto of PROTOS) {
    const cuts = new Set<number>([0]);
    for (const rule of allRules(r, dir)) for (const s of rule.ports ?? []) {
      if (s.type === 'range') {
        if (s.protocol === proto) {
          cuts.add(s.from);
          cuts.add(s.to + 1);
        }
      } else if (dst && (s.protocol === null || s.protocol === proto)) {
        for (const cp of dst.ports) if (cp.name === s.name && cp.protocol === proto) {
          cuts.add(cp.containerPort);
          cuts.add(cp.containerPort + 1);
        }
      }
    }
    const points = [...cuts].filter((x) => x <= 65535).sort((a, b) => a - b);
    const segs: PortFunction['segments'][Protocol] = [];
    points.forEach((from, i) => {
      const to = i + 1 < points.length ? points[i + 1] - 1 : 65535;
      const value = valueOf(decideSide(r, dir, self, peer, proto, from));
      const last = segs[segs.length - 1];
      if (last && sameValue(last.value, value)) last.to = to;
      else segs.push({ from, to, value });
    });
    segments[proto] = segs;
  }
  return { other: valueOf(decideSide(r, dir, self, peer, 'OTHER', 0)), segments };
}

/** LPM entries for one (set, peer): a peer-wide entry, protocol entries, port blocks; each only where it differs from what a shorter prefix already gives. */
function emit(out: RuleEntry[], set: number, peer: number, f: PortFunction, dflt: RuleValue): void {
  if (!sameValue(f.other, dflt)) out.push({ set, peer, proto: null, port: 0, portBits: 0, value: f.other });
  for (const proto of PROTOS) {
    const segs = f.segments[proto];
    // The protocol entry carries the value that covers most ports; port blocks carry the rest.
    const cover = new Map<string, number>();
    const keyOf = (v: RuleValue) => `${v.verdict}/${v.ruleId}/${v.auditRuleId}`;
    for (const s of segs) cover.set(keyOf(s.value), (cover.get(keyOf(s.value)) ?? 0) + s.to - s.from + 1);
    let base = segs[0].value;
    for (const s of segs) if ((cover.get(keyOf(s.value)) as number) > (cover.get(keyOf(base)) as number)) base = s.value;
    const num = PROTO_NUMBERS[proto];
    if (!sameValue(base, f.other)) out.push({ set, peer, proto: num, port: 0, portBits: 0, value: base });
    for (const s of segs) {
      if (sameValue(s.value, base)) continue;
      for (const b of portBlocks(s.from, s.to)) out.push({ set, peer, proto: num, port: b.port, portBits: b.bits, value: s.value });
    }
  }
}

/** Table sizes, as a report. */
export function tableSizes(t: Tables): TableSizes {
  return { ...t.sizes };
}
