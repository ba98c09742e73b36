// ns per packet of the programs under BPF_PROG_TEST_RUN, against the rule count. Every rule count
// has its own datapath (own pin root, own maps) loaded at the same time, and the measurements take
// turns round by round: drift of the shared machine (other work, CPU frequency) lands on every
// rule count alike instead of looking like a trend. The kernel's test run stops its clock while the
// thread is rescheduled, so what remains is the programs' own cost plus cache effects.
import { LibbpfDatapath, frame } from '../../datapath/index.ts';
import { median, percentile } from '../lib/report.ts';
import { IPERF_PORT, weftTables, type Pair } from './rules.ts';

/** Mean ns per run of one PROG_TEST_RUN call: enough runs that its own overhead does not count. */
const REPEAT = 50_000;
/** Each deny is reported: the ring buffer takes a whole call's events (64 B + 8 B header each). */
const RING_BYTES = 8 << 20;

export const PATHS = {
  policy: 'new flow: endpoint, conntrack miss, ipcache, rule miss, set default (deny), counters, event',
  established: 'established: endpoint, conntrack hit, counters',
} as const;

export interface PerPacket {
  rules: number;
  path: keyof typeof PATHS;
  /** Median over the rounds of the mean ns per packet, with the 25th and 75th percentiles. */
  ns: number;
  ns_p25: number;
  ns_p75: number;
  rounds: number;
}

export async function measurePerPacket(pair: Pair, ruleCounts: number[], rounds: number, pinPrefix: string, log: (m: string) => void): Promise<PerPacket[]> {
  const dps: LibbpfDatapath[] = [];
  try {
    for (const rules of ruleCounts) {
      const dp = await LibbpfDatapath.open({ pinRoot: `${pinPrefix}-${rules}`, ringBufferBytes: RING_BYTES });
      dps.push(dp);
      await dp.apply(weftTables(pair, rules), 1);
    }
    // A denied new flow never enters conntrack, so every run walks the whole policy path; the
    // established flow is allowed once first. With 0 rules no policy selects the server: there is
    // no policy path to measure (the first packet would create the flow).
    const fresh = frame({ proto: 6, src: pair.client, dst: pair.server, sport: 40000, dport: 9 });
    const established = frame({ proto: 6, src: pair.client, dst: pair.server, sport: 40001, dport: IPERF_PORT });
    for (const dp of dps) if (!dp.testRun('ingress', established).pass) throw new Error('per-packet bench: the established flow was not allowed');
    const samples = new Map<string, number[]>();
    const add = (rules: number, path: keyof typeof PATHS, ns: number) => {
      const k = `${rules}/${path}`;
      samples.set(k, [...(samples.get(k) ?? []), ns]);
    };
    for (let round = 0; round < rounds; round++) {
      // Rotate the starting rule count too, so none is always measured right after another.
      for (let j = 0; j < dps.length; j++) {
        const i = (j + round) % dps.length;
        const dp = dps[i];
        if (ruleCounts[i] > 0) {
          dp.drainEvents();
          const r = dp.testRun('ingress', fresh, REPEAT);
          if (r.pass) throw new Error('per-packet bench: the new flow was not denied');
          add(ruleCounts[i], 'policy', r.durationNs);
        }
        add(ruleCounts[i], 'established', dp.testRun('ingress', established, REPEAT).durationNs);
      }
    }
    log(`per-packet: ${rounds} rounds x ${REPEAT} runs per rule count and path`);
    return [...samples].map(([k, xs]) => {
      const [rules, path] = k.split('/') as [string, keyof typeof PATHS];
      return { rules: Number(rules), path, ns: median(xs), ns_p25: percentile(xs, 25), ns_p75: percentile(xs, 75), rounds: xs.length };
    });
  } finally {
    for (const dp of dps) {
      await dp.close();
      LibbpfDatapath.unpin(dp.pinRoot);
    }
  }
}
