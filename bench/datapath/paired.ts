// The targets at 10k rules, measured A/B: no policy and Weft alternate pair after pair (AB, BA,
// AB, ...), seconds apart, so the load of the shared machine is nearly the same for both halves of
// a pair. The median of the per-pair ratios (and differences) is far steadier than a ratio of two
// medians taken minutes apart. Weft's tables stay loaded; a switch is attach or detach.
import { median, percentile } from '../lib/report.ts';
import type { Topology } from '../../bpf/testing/netns.ts';
import { iperf, sockperf } from './tools.ts';

export interface Side {
  up(): Promise<void>;
  down(): Promise<void>;
}

export interface PairedResult {
  pairs: number;
  /** Weft ÷ no policy, 4-stream TCP throughput, %: median and quartiles of the pairs. */
  throughput_pct: number;
  throughput_pct_p25: number;
  throughput_pct_p75: number;
  /** Weft − no policy, p50 one-way latency, µs. */
  added_p50_us: number;
  added_p50_us_p25: number;
  added_p50_us_p75: number;
  raw: { none: { gbps: number; p50: number }; weft: { gbps: number; p50: number } }[];
}

export async function measurePaired(topo: Topology, weft: Side, pairs: number, seconds: number, log: (m: string) => void): Promise<PairedResult> {
  const raw: PairedResult['raw'] = [];
  const measure = async (on: boolean) => {
    if (on) await weft.up();
    try {
      return { gbps: iperf(topo, 4, seconds), p50: sockperf(topo, seconds).p50 };
    } finally {
      if (on) await weft.down();
    }
  };
  for (let i = 0; i < pairs; i++) {
    const weftFirst = i % 2 === 1;
    const first = await measure(weftFirst);
    const second = await measure(!weftFirst);
    const pair = weftFirst ? { none: second, weft: first } : { none: first, weft: second };
    raw.push(pair);
    log(`A/B pair ${i + 1}/${pairs}: ${JSON.stringify(pair)}`);
  }
  const pct = raw.map((p) => (p.weft.gbps / p.none.gbps) * 100);
  const add = raw.map((p) => p.weft.p50 - p.none.p50);
  const r = (x: number) => Math.round(x * 100) / 100;
  return {
    pairs,
    throughput_pct: r(median(pct)),
    throughput_pct_p25: r(percentile(pct, 25)),
    throughput_pct_p75: r(percentile(pct, 75)),
    added_p50_us: r(median(add)),
    added_p50_us_p25: r(percentile(add, 25)),
    added_p50_us_p75: r(percentile(add, 75)),
    raw,
  };
}
