// The FQDN datapath under BPF_PROG_TEST_RUN on real maps: how long the program takes to learn a DNS
// answer (the address is allowed when it returns: that is the answer -> allow latency in the kernel),
// and what a packet costs with 10 000 learned addresses against none.
import { frame } from '../../datapath/index.ts';
import { dnsAnswer, fqdnTables, openTestDatapath, queryFrame, udpAnswerFrame } from '../../datapath/testing/index.ts';
import { median } from '../lib/report.ts';

const CLIENT = '10.77.0.2';
const RESOLVER = '10.77.0.53';

export interface KernelFqdn {
  /** ns per run, medians of `rounds` rounds of `runs` runs. */
  answerNs: { oneA: number; cnameAndEightA: number; notMatched: number; notDns: number };
  packetNs: {
    deniedUnlearned: { none: number; learned10k: number };
    /** A learned address on a port the rule does not allow: the whole FQDN lookup, then the deny. */
    learnedWrongPort: number;
    established: { none: number; learned10k: number };
  };
  rounds: number;
  runs: number;
}

function learnedAddr(i: number): string {
  return `100.${64 + (i >> 16)}.${(i >> 8) & 0xff}.${i & 0xff}`;
}

export async function measureKernel(rounds: number, runs: number): Promise<KernelFqdn> {
  const { dp, cleanup } = await openTestDatapath({ fqdnMinTtl: 3600, fqdnGrace: 0 });
  try {
    await dp.apply(fqdnTables(CLIENT, RESOLVER), 1);
    let port = 30000;
    const answerFrame = (msg: Buffer) => {
      const p = port++;
      dp.testRun('egress', queryFrame(CLIENT, RESOLVER, p));
      return udpAnswerFrame(RESOLVER, CLIENT, p, msg);
    };
    const a = (name: string, data: string) => ({ name, type: 'A' as const, ttl: 300, data });
    const frames = {
      oneA: answerFrame(dnsAnswer('api.example.com', [a('api.example.com', '203.0.113.1')])),
      cnameAndEightA: answerFrame(
        dnsAnswer('x.cdn.test', [
          { name: 'x.cdn.test', type: 'CNAME', ttl: 300, data: 'edge.provider.net' },
          ...Array.from({ length: 8 }, (_, i) => a('edge.provider.net', `203.0.113.${10 + i}`)),
        ]),
      ),
      notMatched: answerFrame(dnsAnswer('www.example.org', [a('www.example.org', '203.0.113.99')])),
      notDns: (() => {
        const p = port++;
        dp.testRun('egress', frame({ proto: 17, src: CLIENT, dst: RESOLVER, sport: p, dport: 5353, payload: 64 }));
        return frame({ proto: 17, src: RESOLVER, dst: CLIENT, sport: 5353, dport: p, payload: 64 });
      })(),
    };
    const deniedUnlearned = frame({ proto: 6, src: CLIENT, dst: '198.51.100.77', sport: 40000, dport: 443 });
    const learnedWrongPort = frame({ proto: 6, src: CLIENT, dst: '203.0.113.1', sport: 40001, dport: 8443 });
    const est = (() => {
      dp.testRun('egress', frame({ proto: 6, src: CLIENT, dst: '203.0.113.1', sport: 40002, dport: 443 }));
      return frame({ proto: 6, src: CLIENT, dst: '203.0.113.1', sport: 40002, dport: 443 });
    })();
    const time = (direction: 'ingress' | 'egress', f: Buffer) => dp.testRun(direction, f, runs).durationNs;
    const series = () => ({
      oneA: [] as number[],
      cnameAndEightA: [] as number[],
      notMatched: [] as number[],
      notDns: [] as number[],
      denied: [] as number[],
      wrongPort: [] as number[],
      est: [] as number[],
    });
    const measure = (s: ReturnType<typeof series>) => {
      for (let r = 0; r < rounds; r++) {
        s.oneA.push(time('ingress', frames.oneA));
        s.cnameAndEightA.push(time('ingress', frames.cnameAndEightA));
        s.notMatched.push(time('ingress', frames.notMatched));
        s.notDns.push(time('ingress', frames.notDns));
        s.denied.push(time('egress', deniedUnlearned));
        s.wrongPort.push(time('egress', learnedWrongPort));
        s.est.push(time('egress', est));
      }
    };
    const none = series();
    // "none": only the handful the answers above taught.
    measure(none);
    const entries = Array.from({ length: 10_000 }, (_, i) => ({
      addr: learnedAddr(i),
      pattern: dp.patternKey('*.cdn.test'),
      expiresNs: process.hrtime.bigint() + 3600n * 10n ** 9n,
    }));
    dp.restoreLearned(entries);
    const full = series();
    measure(full);
    const m = (xs: number[]) => Math.round(median(xs));
    return {
      answerNs: { oneA: m(full.oneA), cnameAndEightA: m(full.cnameAndEightA), notMatched: m(full.notMatched), notDns: m(full.notDns) },
      packetNs: {
        deniedUnlearned: { none: m(none.denied), learned10k: m(full.denied) },
        learnedWrongPort: m(full.wrongPort),
        established: { none: m(none.est), learned10k: m(full.est) },
      },
      rounds,
      runs,
    };
  } finally {
    await cleanup();
  }
}
