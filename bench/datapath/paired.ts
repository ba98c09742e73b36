// The targets at 10k rules, measured A/B: no policy and Weft alternate pair after pair (AB, BA,
// AB, ...), seconds apart, so the load of the shared machine is nearly the same for both halves of
// a pair. The median of the per-pair ratios (and differences) is far steadier than a ratio of two
// medians taken minutes apart. Weft's tables stay loaded; a switch is attach or detach.
import { median } from '../lib/report.ts';
import type { Topology } from '../../datapath/testing/index.ts';
import { iperf, sockperf } from './tools.ts';

export interface Side {
  up(): Promise<void>;
  down(): Promise<void>;
  /** Packets the programs judged so far (the per-endpoint counters: every run of a program counts). */
  judged(): Promise<number>;
}

export interface PairedResult {
  pairs: number;
  /** Weft ÷ no policy, 4-stream TCP throughput, %: median of the pairs and its 95% confidence interval. */
  throughput_pct: number;
  throughput_pct_ci95: [number, number];
  /** Weft − no policy, p50 one-way latency, µs: the same. */
  added_p50_us: number;
  added_p50_us_ci95: [number, number];
  /** Program runs per second during Weft's iperf3 halves (median): with the ns per packet, their CPU cost. */
  judged_per_s: number;
  raw: { none: { gbps: number; p50: number }; weft: { gbps: number; p50: number; judgedPerS: number } }[];
}

export async function measurePaired(topo: Topology, weft: Side, pairs: number, seconds: number, log: (m: string) => void): Promise<PairedResult> {
  const raw: PairedResult['raw'] = [];
  const measure = async (on: boolean) => {
    if (on) await weft.up();
    try {
      const before = on ? await weft.judged() : 0;
      const gbps = iperf(topo, 4, seconds);
      const judgedPerS = on ? ((await weft.judged()) - before) / seconds : 0;
      return { gbps, p50: sockperf(topo, seconds).p50, judgedPerS };
    } finally {
      if (on) await weft.down();
    }
  };
  for (let i = 0; i < pairs; i++) {
    const weftFirst = i % 2 === 1;
    const first = await measure(weftFirst);
    const second = await measure(!weftFirst);
    const [w, n] = weftFirst ? [first, second] : [second, first];
    const pair = { none: { gbps: n.gbps, p50: n.p50 }, weft: w };
    raw.push(pair);
    log(`A/B pair ${i + 1}/${pairs}: ${JSON.stringify(pair)}`);
  }
  const pct = raw.map((p) => (p.weft.gbps / p.none.gbps) * 100);
  const add = raw.map((p) => p.weft.p50 - p.none.p50);
  const r = (x: number) => Math.round(x * 100) / 100;
  return {
    pairs,
    throughput_pct: r(median(pct)),
    throughput_pct_ci95: medianCi95(pct).map(r) as [number, number],
    added_p50_us: r(median(add)),
    added_p50_us_ci95: medianCi95(add).map(r) as [number, number],
    judged_per_s: Math.round(median(raw.map((p) => p.weft.judgedPerS))),
    raw,
  };
}

/**
 * A distribution-free 95% confidence interval of the median: the order statistics whose ranks the
 * binomial(n, 1/2) bounds (normal approximation). It says whether a target is decided at all: a
 * median above the target with the interval straddling it is noise, not a pass.
 */
export function medianCi95(xs: number[]): [number, number] {
  const s = [...xs].sort((a, b) => a - b);
  const k = Math.max(0, Math.floor((s.length - 1.96 * Math.sqrt(s.length)) / 2));
  return [s[k], s[s.length - 1 - k]];
}

/** ✓ when the whole interval meets the target, ✗ when none of it does, else undecided. */
export function verdict([lo, hi]: [number, number], meets: (x: number) => boolean): string {
  if (meets(lo) && meets(hi)) return '✓';
  if (!meets(lo) && !meets(hi)) return '✗';
  return '? (undecided: the interval straddles the target)';
}
