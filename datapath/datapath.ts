// The one door to the kernel datapath. The libbpf implementation (libbpf-datapath.ts) is the only
// code that touches the kernel; memory-datapath.ts interprets the same Tables in memory for fast
// tests elsewhere. One contract test runs against both.
import type { Tables } from '../policy/index.ts';
import type { DropReason } from './drop-reasons.ts';

export interface Endpoint {
  /** `<namespace>/<name>` */
  pod: string;
  /** Host-side interface (the pod's veth peer on the host). */
  ifindex: number;
  ifname?: string;
  ips: string[];
}

export interface FiveTuple {
  proto: number;
  src: string;
  dst: string;
  sport: number;
  dport: number;
}

export interface VerdictEvent extends FiveTuple {
  /** Nanoseconds since boot (kernel clock), converted by the caller when needed. */
  timeNs: bigint;
  endpointId: number;
  direction: 'ingress' | 'egress';
  verdict: 'allow' | 'deny' | 'audit';
  /** Attribution id (Tables.attributions) of the rule that decided; 0 = default. */
  ruleId: number;
  generation: number;
}

export interface CounterSample {
  endpointId?: number;
  ruleId?: number;
  verdict: 'allow' | 'deny' | 'audit';
  packets: bigint;
  bytes: bigint;
}

export interface DropSample {
  packets: bigint;
  bytes: bigint;
}

export interface Counters {
  byRule: CounterSample[];
  byEndpoint: CounterSample[];
  /** Events the kernel had no ring buffer room for (the consumer fell behind); the counters above still count. */
  eventsLost: bigint;
  /**
   * Every dropped packet by why (every reason present, zero until it happens): policy denies (also
   * in byRule/byEndpoint as 'deny') and packets dropped before any policy lookup (malformed).
   */
  drops: Record<DropReason, DropSample>;
}

export interface Datapath {
  /** Writes the tables where packets do not look, then makes them live with one map update. */
  apply(tables: Tables, generation: number): Promise<void>;
  /** The generation live in the kernel (0 when none): lets a restarted agent adopt pinned state. */
  appliedGeneration(): Promise<number>;
  attach(endpoint: Endpoint): Promise<void>;
  detach(endpoint: Endpoint): Promise<void>;
  events(): AsyncIterable<VerdictEvent>;
  counters(): Promise<Counters>;
  close(): Promise<void>;
}
