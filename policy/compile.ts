// The compiler: (policies, inventory) -> datapath tables (see tables.ts). For each endpoint and
// direction it finds the policies that apply; endpoints with the same ones share a rule set. For
// each set it evaluates side.ts on one representative per peer identity and per port segment, and
// writes only what differs from the set's default as LPM entries. Tier precedence is thereby
// flattened: the kernel's longest-prefix match is the whole answer.
import { buildAttributions, refKey } from './attributions.ts';
import { compareCodeUnits } from './canonical.ts';
import { checkCapacity } from './capacity.ts';
import { contextOf } from './context.ts';
import { buildIdentities, peerHits, type PeerIdentity } from './identities.ts';
import { podKey, type Inventory, type Protocol } from './inventory.ts';
import type { Direction, PolicySet, PortSpec, Rule, RuleRef } from './model.ts';
import { portBlocks } from './port-blocks.ts';
import { decideSide, isEmpty, type PeerTest, type PeerView, type PodView, type SideOutcome, type SideRules } from './side.ts';
import {
  DEFAULT_LIMITS,
  PROTO_SCTP,
  PROTO_TCP,
  PROTO_UDP,
  SET_NONE,
  VERDICT_ALLOW,
  VERDICT_DENY,
  type EndpointEntry,
  type MapLimits,
  type RuleEntry,
  type RuleValue,
  type SetEntry,
  type Tables,
  type TableSizes,
} from './tables.ts';

export const PROTO_NUMBERS: Record<Protocol, number> = { TCP: PROTO_TCP, UDP: PROTO_UDP, SCTP: PROTO_SCTP };
const PROTOS: Protocol[] = ['TCP', 'UDP', 'SCTP'];

/** A side's verdict over every protocol and port for one peer: port segments per protocol, and the rest. */
interface PortFunction {
  other: RuleValue;
  segments: Record<Protocol, { from: number; to: number; value: RuleValue }[]>;
  /** The protocol and port-block entries this function needs under a peer-wide `other` (see entriesOf). */
  entries: { proto: number; port: number; portBits: number; value: RuleValue }[];
}

/** What portFunction needs of a set, computed once per set. */
interface SetShape {
  rules: Rule[];
  /** Port edges of the numeric ports per protocol. */
  cuts: Record<Protocol, number[]>;
  named: Extract<PortSpec, { type: 'named' }>[];
}

function isConstant(f: PortFunction): boolean {
  return f.entries.length === 0;
}

export interface CompileOptions {
  limits?: MapLimits;
}

export function compile(policies: PolicySet, inventory: Inventory, options: CompileOptions = {}): Tables {
  const ctx = contextOf(policies, inventory);
  const views = [...ctx.pods.values()].sort((a, b) => compareCodeUnits(podKey(a.pod), podKey(b.pod)));
  const ids = buildIdentities(policies, views);
  const attributions = buildAttributions(policies);
  const refIds = new Map<RuleRef, number>();
  const idOf = (r: RuleRef | null): number => {
    if (!r) return 0;
    let id = refIds.get(r);
    if (id === undefined) refIds.set(r, (id = attributions.ids.get(refKey(r)) as number));
    return id;
  };
  // Values are interned: equal verdicts are one object, shared by all the entries that carry them.
  const values = new Map<number, RuleValue>();
  const valueOf = (o: SideOutcome): RuleValue => {
    const verdict = o.allowed ? VERDICT_ALLOW : VERDICT_DENY;
    const ruleId = idOf(o.by);
    const auditRuleId = idOf(o.audit);
    const key = verdict + 4 * (ruleId + 2 ** 24 * auditRuleId);
    let v = values.get(key);
    if (!v) values.set(key, (v = { verdict, ruleId, auditRuleId }));
    return v;
  };

  // Which identities a peer of a rule matches: computed once per Peer object, shared by every set.
  const hits = peerHits(ids);
  /** The rules of the set whose peers hold identity `i`, as a PeerTest. */
  const peerOkFor = (shape: SetShape, i: PeerIdentity): PeerTest => {
    const ok = new Set(shape.rules.filter((rule) => rule.peers === null || rule.peers.some((p) => hits(p).set.has(i))));
    return (rule) => ok.has(rule);
  };

  const sets: SetEntry[] = [];
  const rules: RuleEntry[] = [];
  const setIds = new Map<string, number>();

  // Pods of one identity have the same applicable policies and ports, hence the same sets.
  const setsByIdentity = new Map<PeerIdentity, { ingress?: number; egress?: number }>();
  const setFor = (v: PodView, dir: Direction): number => {
    const identity = ids.byPod.get(v) as PeerIdentity;
    let memo = setsByIdentity.get(identity);
    if (!memo) setsByIdentity.set(identity, (memo = {}));
    return (memo[dir] ??= setForRules(v, dir));
  };
  const setForRules = (v: PodView, dir: Direction): number => {
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
    const shape = shapeOf(r, dir);
    const functionOf = (i: PeerIdentity) => {
      const peerOk = peerOkFor(shape, i);
      // An ANP none of whose rules holds this peer is passed over whatever the port: drop it up front.
      const admin = r.admin.filter((p) => p[dir].some(peerOk));
      return portFunction(shape, admin.length === r.admin.length ? r : { ...r, admin }, dir, self, i.view, peerOk, valueOf);
    };
    const generic = functionOf(ids.list[0]);
    const dflt = generic.other;
    // A peer's verdicts depend only on which of the set's rule peers match it (and, for egress, on
    // its own named ports): identities are refined into classes alike in that, and each class is
    // evaluated once. Class 0, matched by no rule peer, behaves as the world (the generic peer).
    const classOf = new Map<PeerIdentity, number>();
    const refine = refiner();
    const rulePeers = [...new Set(shape.rules.flatMap((rule) => rule.peers ?? []))];
    for (let k = 0; k < rulePeers.length; k++) {
      for (const i of hits(rulePeers[k]).list) classOf.set(i, refine(classOf.get(i) ?? 0, k));
    }
    if (dir === 'egress' && named) {
      const names = new Set(shape.named.map((s) => s.name));
      const portClasses = new Map<string, number>();
      for (const i of ids.list) {
        if (i.view.kind !== 'pod') continue;
        const own = i.view.view.pod.ports.filter((cp) => cp.name !== undefined && names.has(cp.name));
        if (own.length === 0) continue;
        const key = own
          .map((cp) => `${cp.name}/${cp.protocol}/${cp.containerPort}`)
          .sort()
          .join(',');
        let sym = portClasses.get(key);
        if (sym === undefined) portClasses.set(key, (sym = rulePeers.length + portClasses.size));
        classOf.set(i, refine(classOf.get(i) ?? 0, sym));
      }
    }
    const functions: PortFunction[] = [generic];
    const genericConstant = isConstant(generic);
    const before = rules.length;
    // A constant generic function needs no entries: only the identities some rule peer names do.
    const peers = genericConstant ? [...classOf.keys()].sort((a, b) => a.id - b.id) : ids.list;
    for (const peer of peers) {
      const c = classOf.get(peer) ?? 0;
      emit(rules, id, peer.id, (functions[c] ??= functionOf(peer)), dflt);
    }
    if (rules.length === before && dflt.verdict === VERDICT_ALLOW && dflt.ruleId === 0 && dflt.auditRuleId === 0) return SET_NONE;
    sets.push({ id, direction: dir, default: dflt });
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
  // Rules are already in canonical order (set, peer, protocol with null first, port, bits): sets are built
  // in id order, peers walked in id order, and port blocks emitted in ascending order.
  const ipcache = [...ids.ipcache].sort((a, b) => compareCodeUnits(a.cidr, b.cidr));
  const sizes: TableSizes = {
    endpoints: endpoints.length,
    ipcache: ipcache.length,
    sets: sets.length,
    rules: rules.length,
    identities: ids.entries.length,
    attributions: attributions.list.length,
  };
  checkCapacity(
    sizes,
    endpoints.reduce((n, e) => n + e.ips.length, 0),
    options.limits ?? DEFAULT_LIMITS,
  );
  return { version: 1, endpoints, ipcache, sets, rules, identities: ids.entries, attributions: attributions.list, sizes };
}

function portSig(v: PodView): string {
  return v.pod.ports
    .map((p) => `${p.name ?? ''}/${p.protocol}/${p.containerPort}`)
    .sort()
    .join(',');
}

const rulesMemo = new WeakMap<SideRules, Rule[]>();
/** Every rule of the side in the order they are met (a SideRules is for one direction). */
function allRules(r: SideRules, dir: Direction): Rule[] {
  let rules = rulesMemo.get(r);
  if (!rules) rulesMemo.set(r, (rules = [...r.admin, ...r.network, ...(r.baseline ? [r.baseline] : [])].flatMap((p) => p[dir])));
  return rules;
}

function usesNamedPorts(r: SideRules, dir: Direction): boolean {
  return allRules(r, dir).some((rule) => rule.ports?.some((s) => s.type === 'named'));
}

function shapeOf(r: SideRules, dir: Direction): SetShape {
  const rules = allRules(r, dir);
  const cuts = {} as SetShape['cuts'];
  const named: SetShape['named'] = [];
  for (const proto of PROTOS) {
    const c = new Set<number>([0]);
    for (const rule of rules)
      for (const s of rule.ports ?? [])
        if (s.type === 'range' && s.protocol === proto) {
          c.add(s.from);
          c.add(s.to + 1);
        }
    cuts[proto] = [...c].filter((x) => x <= 65535).sort((a, b) => a - b);
  }
  for (const rule of rules) for (const s of rule.ports ?? []) if (s.type === 'named') named.push(s);
  return { rules, cuts, named };
}

/** Partition refinement: (class, symbol) -> a finer class, numbered from 1 as they appear. */
function refiner(): (cls: number, symbol: number) => number {
  const next = new Map<number, Map<number, number>>();
  let count = 0;
  return (cls, symbol) => {
    let m = next.get(cls);
    if (!m) next.set(cls, (m = new Map()));
    let c = m.get(symbol);
    if (c === undefined) m.set(symbol, (c = ++count));
    return c;
  };
}

/** Evaluates the side once per port segment: cut at every port edge the rules (and resolved named ports) name. */
function portFunction(
  shape: SetShape,
  r: SideRules,
  dir: Direction,
  self: PodView,
  peer: PeerView,
  peerOk: PeerTest,
  valueOf: (o: SideOutcome) => RuleValue,
): PortFunction {
  const dst = dir === 'ingress' ? self.pod : peer.kind === 'pod' ? peer.view.pod : null;
  const segments = {} as PortFunction['segments'];
  for (const proto of PROTOS) {
    let points = shape.cuts[proto];
    if (dst && shape.named.length > 0) {
      const extra: number[] = [];
      for (const s of shape.named)
        if (s.protocol === null || s.protocol === proto) {
          for (const cp of dst.ports) if (cp.name === s.name && cp.protocol === proto) extra.push(cp.containerPort, cp.containerPort + 1);
        }
      if (extra.length > 0) points = [...new Set([...points, ...extra])].filter((x) => x <= 65535).sort((a, b) => a - b);
    }
    const segs: PortFunction['segments'][Protocol] = [];
    for (let i = 0; i < points.length; i++) {
      const from = points[i];
      const to = i + 1 < points.length ? points[i + 1] - 1 : 65535;
      const value = valueOf(decideSide(r, dir, self, peer, proto, from, peerOk));
      const last = segs[segs.length - 1];
      if (last && last.value === value) last.to = to;
      else segs.push({ from, to, value });
    }
    segments[proto] = segs;
  }
  const other = valueOf(decideSide(r, dir, self, peer, 'OTHER', 0, peerOk));
  return { other, segments, entries: entriesOf(other, segments) };
}

/**
 * Per protocol: a protocol entry with the value that covers most ports (when it differs from the
 * peer-wide value), and port blocks for the rest. Each entry only where a shorter prefix would be wrong.
 */
function entriesOf(other: RuleValue, segments: PortFunction['segments']): PortFunction['entries'] {
  const out: PortFunction['entries'] = [];
  for (const proto of PROTOS) {
    const segs = segments[proto];
    let base = segs[0].value;
    let baseCover = -1;
    for (const s of segs) {
      let cover = 0;
      for (const t of segs) if (t.value === s.value) cover += t.to - t.from + 1;
      if (cover > baseCover) {
        base = s.value;
        baseCover = cover;
      }
    }
    const num = PROTO_NUMBERS[proto];
    if (base !== other) out.push({ proto: num, port: 0, portBits: 0, value: base });
    for (const s of segs) {
      if (s.value === base) continue;
      for (const b of portBlocks(s.from, s.to)) out.push({ proto: num, port: b.port, portBits: b.bits, value: s.value });
    }
  }
  return out;
}

/** LPM entries for one (set, peer): a peer-wide entry where it differs from the set default, then the function's own. */
function emit(out: RuleEntry[], set: number, peer: number, f: PortFunction, dflt: RuleValue): void {
  if (f.other !== dflt) out.push({ set, peer, proto: null, port: 0, portBits: 0, value: f.other });
  for (const e of f.entries) out.push({ set, peer, proto: e.proto, port: e.port, portBits: e.portBits, value: e.value });
}

/** Table sizes, as a report. */
export function tableSizes(t: Tables): TableSizes {
  return { ...t.sizes };
}
