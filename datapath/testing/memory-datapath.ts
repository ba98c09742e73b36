// The in-memory Datapath: interprets the tables with exactly the kernel programs' per-packet
// algorithm (bpf/lib/judge.h), for fast tests of the parts above the datapath. It judges flows,
// not frames, so of the kernel's drop reasons it can only see 'policy': malformed packets are the
// kernel's alone (prog-test-run.kernel.test.ts).
// One contract (testing/contract.ts) runs against this (datapath.contract.test.ts) and the libbpf datapath (.kernel.test.ts).
import { DEFAULT_LIMITS, VERDICT_ALLOW, type MapLimits, type RuleValue, type Tables } from '../../policy/index.ts';
import type { CounterSample, Counters, Datapath, Endpoint, FiveTuple, VerdictEvent } from '../datapath.ts';
import { checkTables } from '../check-tables.ts';
import { noDrops } from '../drop-reasons.ts';
import { DatapathError } from '../errors.ts';
import { EventStream } from '../event-stream.ts';
import { CT_REFRESH_NS, ctPorts, ctTimeoutNs, isIcmpError, isNeighborDiscovery, rulePort } from '../flow.ts';
import { tableAddr as parseAddr } from '../check-tables.ts';
import { TableIndex } from '../table-index.ts';

export type Direction = 'ingress' | 'egress';

export interface MemoryDatapathOptions {
  limits?: MapLimits;
  /** Report one allow in `allowSampleRate` as an event (0: none, 1: every allow). */
  allowSampleRate?: number;
  conntrackSize?: number;
  /** Monotonic clock in ns (the kernel's bpf_ktime_get_ns). */
  clock?: () => bigint;
  /** Uniform [0, 1) for allow sampling. */
  random?: () => number;
}

/** What the kernel would see besides the 5-tuple. */
export interface PacketInfo {
  /** Length on the wire, for byte counters (default 64). */
  bytes?: number;
  /** ICMP echo identifier. */
  icmpId?: number;
  /** For an ICMP error: the 5-tuple of the packet it quotes. */
  inner?: FiveTuple;
}

export type JudgmentStep =
  | 'not-attached' // no program on that interface: the kernel never sees the packet
  | 'neighbor-discovery'
  | 'no-endpoint' // the pod-side IP is not a known endpoint
  | 'conntrack' // established flow or reply of an allowed one
  | 'related' // ICMP error about an allowed flow
  | 'no-policy' // set 0: no policy selects the endpoint in this direction
  | 'rule'
  | 'default'; // the set's default verdict

export interface Judgment {
  pass: boolean;
  verdict: VerdictEvent['verdict'];
  step: JudgmentStep;
  endpointId: number;
  ruleId: number;
  generation: number;
  /** The event the kernel would put on the ring buffer, if any. */
  event?: VerdictEvent;
}

interface CtEntry {
  lastSeen: bigint;
  ruleId: number;
}

const reverse = (t: FiveTuple): FiveTuple => ({ proto: t.proto, src: t.dst, dst: t.src, sport: t.dport, dport: t.sport });
/** Conntrack is per endpoint and direction: pod A's egress allow must not open pod B's ingress. */
const ctKey = (endpointId: number, direction: Direction, t: FiveTuple, [sp, dp]: [number, number]): string =>
  `${endpointId}|${direction}|${t.proto}|${t.src}|${t.dst}|${sp}|${dp}`;
const flip = (d: Direction): Direction => (d === 'ingress' ? 'egress' : 'ingress');

export class MemoryDatapath implements Datapath {
  private readonly limits: MapLimits;
  private readonly sampleRate: number;
  private readonly ctSize: number;
  private readonly clock: () => bigint;
  private readonly random: () => number;
  private live?: { index: TableIndex; generation: number };
  private readonly attached = new Map<number, Endpoint>();
  /** LRU: Map keeps insertion order; a hit is re-inserted at the end, the oldest is evicted. */
  private readonly ct = new Map<string, CtEntry>();
  private readonly ruleCounters = new Map<string, CounterSample>();
  private readonly endpointCounters = new Map<string, CounterSample>();
  private readonly drops = noDrops();
  private readonly stream = new EventStream();
  private closed = false;

  constructor(opts: MemoryDatapathOptions = {}) {
    this.limits = opts.limits ?? DEFAULT_LIMITS;
    this.sampleRate = opts.allowSampleRate ?? 0;
    this.ctSize = opts.conntrackSize ?? 65536;
    this.clock = opts.clock ?? (() => process.hrtime.bigint());
    this.random = opts.random ?? Math.random;
  }

  async apply(tables: Tables, generation: number): Promise<void> {
    this.open();
    checkTables(tables, this.limits);
    // Index first, then one assignment: a judgment sees the old tables or the new, never a mix.
    const index = new TableIndex(tables);
    this.live = { index, generation };
  }

  async appliedGeneration(): Promise<number> {
    return this.live?.generation ?? 0;
  }

  async attach(endpoint: Endpoint): Promise<void> {
    this.open();
    this.attached.set(endpoint.ifindex, endpoint);
  }

  async detach(endpoint: Endpoint): Promise<void> {
    this.attached.delete(endpoint.ifindex);
  }

  events(): AsyncIterable<VerdictEvent> {
    return this.stream.subscribe();
  }

  async counters(): Promise<Counters> {
    // Events go straight to the subscribers' queues: none is lost before them.
    return {
      byRule: [...this.ruleCounters.values()].map((c) => ({ ...c })),
      byEndpoint: [...this.endpointCounters.values()].map((c) => ({ ...c })),
      eventsLost: 0n,
      drops: Object.fromEntries(Object.entries(this.drops).map(([r, d]) => [r, { ...d }])) as Counters['drops'],
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stream.close();
  }

  /** Forget every conntrack entry (as after a reboot, when the kernel's LRU map is gone). */
  flushConntrack(): void {
    this.ct.clear();
  }

  /**
   * Judge one packet as the program on `at` (an attached ifindex or pod name) would.
   * `direction` is the pod's: 'egress' for packets leaving the pod (tc ingress on the host-side
   * veth), 'ingress' for packets to the pod (tc egress on the host-side veth).
   */
  judge(at: number | string, direction: Direction, tuple: FiveTuple, packet: PacketInfo = {}): Judgment {
    const live = this.live;
    const generation = live?.generation ?? 0;
    const result = (pass: boolean, step: JudgmentStep, endpointId = 0, ruleId = 0, verdict: Judgment['verdict'] = pass ? 'allow' : 'deny'): Judgment => ({
      pass,
      verdict,
      step,
      endpointId,
      ruleId,
      generation,
    });
    if (!this.isAttached(at)) return result(true, 'not-attached');
    if (isNeighborDiscovery(tuple)) return result(true, 'neighbor-discovery');
    const ep = live?.index.endpoint(parseAddr(direction === 'egress' ? tuple.src : tuple.dst));
    if (!live || !ep) return result(true, 'no-endpoint');
    const bytes = packet.bytes ?? 64;
    const now = this.clock();

    const hit = this.ctLookup(ctKey(ep.endpointId, direction, tuple, ctPorts(tuple, packet.icmpId)), tuple.proto, now);
    if (hit) {
      this.count(this.endpointCounters, `${ep.endpointId}/allow`, { endpointId: ep.endpointId }, 'allow', bytes);
      return result(true, 'conntrack', ep.endpointId, hit.ruleId);
    }
    if (isIcmpError(tuple) && packet.inner) {
      const [sp, dp] = ctPorts(packet.inner);
      const related = this.ctLookup(ctKey(ep.endpointId, direction, reverse(packet.inner), [dp, sp]), packet.inner.proto, now);
      if (related) {
        this.count(this.endpointCounters, `${ep.endpointId}/allow`, { endpointId: ep.endpointId }, 'allow', bytes);
        return result(true, 'related', ep.endpointId, related.ruleId);
      }
    }

    const set = direction === 'ingress' ? ep.ingressSet : ep.egressSet;
    let value: RuleValue;
    let step: JudgmentStep;
    if (set === 0) {
      value = { verdict: VERDICT_ALLOW, ruleId: 0, auditRuleId: 0 };
      step = 'no-policy';
    } else {
      const peer = live.index.identity(parseAddr(direction === 'egress' ? tuple.dst : tuple.src));
      const rule = live.index.rule(set, peer, tuple.proto, rulePort(tuple));
      value = rule ?? live.index.setDefault(set)!;
      step = rule ? 'rule' : 'default';
    }

    const allow = value.verdict === VERDICT_ALLOW;
    const verdict: Judgment['verdict'] = !allow ? 'deny' : value.auditRuleId !== 0 ? 'audit' : 'allow';
    const ruleId = verdict === 'audit' ? value.auditRuleId : value.ruleId;
    this.count(this.endpointCounters, `${ep.endpointId}/${verdict}`, { endpointId: ep.endpointId }, verdict, bytes);
    if (step !== 'no-policy') this.count(this.ruleCounters, `${ruleId}/${verdict}`, { ruleId }, verdict, bytes);
    if (allow) this.ctCreate(ep.endpointId, direction, tuple, ctPorts(tuple, packet.icmpId), value.ruleId, now);
    else {
      this.drops.policy.packets++;
      this.drops.policy.bytes += BigInt(bytes);
    }

    const out = result(allow, step, ep.endpointId, ruleId, verdict);
    const report = verdict !== 'allow' || (step !== 'no-policy' && this.sampleRate > 0 && this.random() * this.sampleRate < 1);
    if (report) {
      out.event = { ...tuple, timeNs: now, endpointId: ep.endpointId, direction, verdict, ruleId, generation };
      this.stream.push(out.event);
    }
    return out;
  }

  private isAttached(at: number | string): boolean {
    if (typeof at === 'number') return this.attached.has(at);
    for (const e of this.attached.values()) if (e.pod === at) return true;
    return false;
  }

  private ctLookup(key: string, proto: number, now: bigint): CtEntry | undefined {
    const e = this.ct.get(key);
    if (!e) return undefined;
    this.ct.delete(key);
    if (now - e.lastSeen > ctTimeoutNs(proto)) return undefined;
    // Refreshed at most once a second, as the kernel does (it spares a write per packet).
    if (now - e.lastSeen > CT_REFRESH_NS) e.lastSeen = now;
    this.ct.set(key, e);
    return e;
  }

  /** The flow's entry and its reverse (replies arrive in the other direction of the same endpoint). */
  private ctCreate(endpointId: number, direction: Direction, t: FiveTuple, [sp, dp]: [number, number], ruleId: number, now: bigint): void {
    for (const key of [ctKey(endpointId, direction, t, [sp, dp]), ctKey(endpointId, flip(direction), reverse(t), [dp, sp])]) {
      this.ct.delete(key);
      this.ct.set(key, { lastSeen: now, ruleId });
      if (this.ct.size > this.ctSize) this.ct.delete(this.ct.keys().next().value!);
    }
  }

  private count(
    m: Map<string, CounterSample>,
    key: string,
    id: { endpointId?: number; ruleId?: number },
    verdict: CounterSample['verdict'],
    bytes: number,
  ): void {
    let c = m.get(key);
    if (!c) m.set(key, (c = { ...id, verdict, packets: 0n, bytes: 0n }));
    c.packets++;
    c.bytes += BigInt(bytes);
  }

  private open(): void {
    if (this.closed) throw new DatapathError('DATAPATH_CLOSED', 'the datapath is closed', 'create a new one');
  }
}
