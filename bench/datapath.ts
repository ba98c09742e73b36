// npm run bench:datapath — Weft's tc/eBPF datapath against no policy, iptables (linear chain) and
// nftables (hashed set), same rules, two pods in network namespaces over veth and a bridge:
// iperf3 throughput (4 streams and 1), sockperf UDP ping-pong latency (p50, p99), and the
// programs' ns per packet under BPF_PROG_TEST_RUN against the rule count. Needs root.
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LibbpfDatapath } from '../datapath/index.ts';
import { Topology } from '../datapath/testing/index.ts';
import { median, table, writeReport } from './lib/report.ts';
import { measurePerPacket, PATHS, type PerPacket } from './datapath/per-packet.ts';
import { measurePaired, verdict, type PairedResult } from './datapath/paired.ts';
import { iptablesRules, nftRules, peerCount, weftTables } from './datapath/rules.ts';
import { inNs, sample, servers, type Sample } from './datapath/tools.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 4);
/** A/B pairs of no policy and Weft at 10k rules, for the targets. */
const PAIRS = Number(process.env.BENCH_PAIRS ?? 16);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const PER_PACKET_ROUNDS = Number(process.env.BENCH_PER_PACKET_ROUNDS ?? 30);
const RULE_COUNTS = [1000, 10_000, 100_000];

interface Record {
  impl: 'none' | 'weft' | 'iptables' | 'nftables';
  rules: number;
  /** Medians over the runs; *_min / *_max: the spread of the runs. */
  throughput_gbps: number;
  throughput_gbps_min: number;
  throughput_gbps_max: number;
  throughput_1stream_gbps: number;
  latency_p50_us: number;
  latency_p50_us_min: number;
  latency_p50_us_max: number;
  latency_p99_us: number;
  latency_p99_us_min: number;
  latency_p99_us_max: number;
  runs: number;
}

const log = (m: string) => process.stderr.write(`bench:datapath: ${m}\n`);

function summarize(impl: Record['impl'], rules: number, samples: Sample[]): Record {
  const stat = (f: (s: Sample) => number) => {
    const xs = samples.map(f);
    return [round(median(xs), 2), round(Math.min(...xs), 2), round(Math.max(...xs), 2)];
  };
  const [gbps, gbpsMin, gbpsMax] = stat((s) => s.gbps4);
  const [p50, p50Min, p50Max] = stat((s) => s.p50);
  const [p99, p99Min, p99Max] = stat((s) => s.p99);
  return {
    impl,
    rules,
    throughput_gbps: gbps,
    throughput_gbps_min: gbpsMin,
    throughput_gbps_max: gbpsMax,
    throughput_1stream_gbps: round(median(samples.map((s) => s.gbps1)), 2),
    latency_p50_us: p50,
    latency_p50_us_min: p50Min,
    latency_p50_us_max: p50Max,
    latency_p99_us: p99,
    latency_p99_us_min: p99Min,
    latency_p99_us_max: p99Max,
    runs: samples.length,
  };
}

const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;

/** One way to filter the server's traffic: set it up, measure, take it down. */
interface Config {
  impl: Record['impl'];
  rules: number;
  up(): Promise<void>;
  down(): Promise<void>;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    process.stderr.write('bench:datapath needs root (network namespaces, BPF, iptables)\n');
    process.exit(2);
  }
  const topo = Topology.create(['client', 'server'], 84);
  const pair = { client: topo.pods[0].ip, server: topo.pods[1].ip };
  const node = topo.node;
  const pinRoot = `/sys/fs/bpf/wdp-bench-${process.pid}`;
  const tmp = mkdtempSync(join(tmpdir(), 'wdp-bench-'));
  const procs = servers(topo);
  let dp: LibbpfDatapath | undefined;
  const cleanup = async () => {
    for (const p of procs) p.kill();
    await dp?.close();
    LibbpfDatapath.unpin(pinRoot);
    for (const rules of [0, ...RULE_COUNTS]) LibbpfDatapath.unpin(`${pinRoot}-pp-${rules}`);
    topo.destroy();
    rmSync(tmp, { recursive: true, force: true });
  };
  // Ctrl-C must not leave namespaces, servers and pinned maps behind.
  const onSignal = () => void cleanup().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    await new Promise((r) => setTimeout(r, 500));
    dp = await LibbpfDatapath.open({ pinRoot, netns: topo.nodeNetnsPath });
    const weft = dp;
    // br_netfilter sends bridged packets through iptables only when asked; ask only for iptables.
    const brNetfilter = (on: boolean) => inNs(node, ['sysctl', '-qw', `net.bridge.bridge-nf-call-iptables=${on ? 1 : 0}`]);
    brNetfilter(false);
    let gen = 1;
    const timed = (what: string, f: () => unknown) => {
      const t0 = Date.now();
      f();
      log(`${what} in ${Date.now() - t0} ms`);
    };
    const attachAll = async () => {
      for (const p of topo.pods) await weft.attach({ pod: p.name, ifindex: p.ifindex, ips: [p.ip] });
    };
    const detachAll = async () => {
      for (const p of topo.pods) {
        await weft.detach({ pod: p.name, ifindex: p.ifindex, ips: [] });
        // An empty clsact qdisc still turns the tc hooks on: "no policy" must not pay for it.
        inNs(node, ['tc', 'qdisc', 'del', 'dev', p.hostIf, 'clsact']);
      }
      weft.flushConntrack();
    };
    const configs: Config[] = [
      { impl: 'none', rules: 0, up: async () => undefined, down: async () => undefined },
      ...[0, ...RULE_COUNTS].map(
        (rules): Config => ({
          impl: 'weft',
          rules,
          up: async () => {
            const t0 = Date.now();
            await weft.apply(weftTables(pair, rules), gen++);
            log(`weft: applied ${rules} rules in ${Date.now() - t0} ms`);
            await attachAll();
          },
          down: detachAll,
        }),
      ),
      ...RULE_COUNTS.map(
        (rules): Config => ({
          impl: 'iptables',
          rules,
          up: async () => {
            const f = join(tmp, 'iptables.rules');
            writeFileSync(f, iptablesRules(pair, rules));
            brNetfilter(true);
            timed(`iptables: loaded ${rules} rules`, () => inNs(node, ['iptables-restore', f]));
          },
          down: async () => {
            inNs(node, ['iptables', '-F', 'FORWARD']);
            inNs(node, ['iptables', '-F', 'WEFTBENCH']);
            inNs(node, ['iptables', '-X', 'WEFTBENCH']);
            brNetfilter(false);
          },
        }),
      ),
      ...RULE_COUNTS.map(
        (rules): Config => ({
          impl: 'nftables',
          rules,
          up: async () => {
            const f = join(tmp, 'nft.rules');
            writeFileSync(f, nftRules(pair, rules));
            timed(`nftables: loaded ${rules} rules`, () => inNs(node, ['nft', '-f', f]));
          },
          down: async () => {
            inNs(node, ['nft', 'delete', 'table', 'bridge', 'weftbench']);
          },
        }),
      ),
    ];

    // Round-robin over the configurations, starting one further each run, so drift of the shared
    // machine spreads over all of them and none always follows the same neighbour.
    const load = [loadavg()[0]];
    const samples = new Map<Config, Sample[]>(configs.map((c) => [c, []]));
    for (let run = 1; run <= RUNS; run++) {
      for (let j = 0; j < configs.length; j++) {
        const c = configs[(j + run - 1) % configs.length];
        await c.up();
        try {
          const s = sample(topo, run, SECONDS);
          samples.get(c)!.push(s);
          log(`run ${run}/${RUNS} ${c.impl} ${c.rules}: ${JSON.stringify(s)}`);
        } finally {
          await c.down();
        }
      }
    }
    const records = configs.map((c) => summarize(c.impl, c.rules, samples.get(c)!));
    const raw = configs.map((c) => ({ impl: c.impl, rules: c.rules, samples: samples.get(c)! }));
    await weft.apply(weftTables(pair, 10_000), gen++);
    const judged = async () => (await weft.counters()).byEndpoint.reduce((n, c) => n + Number(c.packets), 0);
    const paired = await measurePaired(topo, { up: attachAll, down: detachAll, judged }, PAIRS, SECONDS, log);
    await dp.close();
    dp = undefined;
    const perPacket = await measurePerPacket(pair, [0, ...RULE_COUNTS], PER_PACKET_ROUNDS, `${pinRoot}-pp`, log);
    load.push(loadavg()[0]);
    report(records, raw, paired, perPacket, load);
  } finally {
    await cleanup();
  }
}

type Raw = { impl: Record['impl']; rules: number; samples: Sample[] }[];

function report(records: Record[], raw: Raw, ab: PairedResult, perPacket: PerPacket[], load: number[]): void {
  const spread = (med: number, min: number, max: number) => `${med} (${min}–${max})`;
  const flat = (path: PerPacket['path']) => {
    const xs = perPacket.filter((p) => p.path === path && p.rules >= 1000).map((p) => p.ns);
    return round((Math.max(...xs) / Math.min(...xs) - 1) * 100, 1);
  };
  const [flatPolicy, flatEst] = [flat('policy'), flat('established')];
  const mark = (ok: boolean) => (ok ? '✓' : '✗');
  const est10k = perPacket.find((p) => p.rules === 10_000 && p.path === 'established')!.ns;
  const cpuShare = round(((ab.judged_per_s * est10k) / 1e9 / cpus().length) * 100, 2);
  const markdown = [
    table(
      ['impl', 'rules', 'TCP Gbit/s, 4 streams: median (min–max)', 'TCP Gbit/s, 1 stream', 'p50 µs: median (min–max)', 'p99 µs: median (min–max)'],
      records.map((r) => [
        r.impl,
        r.rules,
        spread(r.throughput_gbps, r.throughput_gbps_min, r.throughput_gbps_max),
        r.throughput_1stream_gbps,
        spread(r.latency_p50_us, r.latency_p50_us_min, r.latency_p50_us_max),
        spread(r.latency_p99_us, r.latency_p99_us_min, r.latency_p99_us_max),
      ]),
    ),
    '',
    table(
      ['rules', 'peers', 'path', 'ns / packet: median (p25–p75)'],
      perPacket.map((p) => [p.rules, p.rules ? peerCount(p.rules) : 0, PATHS[p.path], spread(p.ns, p.ns_p25, p.ns_p75)]),
    ),
    '',
    'Targets:',
    '',
    `- throughput at 10k rules: ${ab.throughput_pct}% of no policy, 95% CI ${ab.throughput_pct_ci95.join('–')}% ${verdict(ab.throughput_pct_ci95, (x) => x >= 97)} (target ≥ 97%): median of ${ab.pairs} A/B pairs.`,
    `- added p50 latency at 10k rules: ${ab.added_p50_us} µs, 95% CI ${ab.added_p50_us_ci95.join('–')} µs ${verdict(ab.added_p50_us_ci95, (x) => x <= 5)} (target ≤ 5 µs): median of the same pairs.`,
    `- what the programs cost during those runs: ${ab.judged_per_s} program runs per second × ${est10k} ns (established path) = ${cpuShare}% of the machine's ${cpus().length} CPUs. ` +
      'A CPU-bound iperf3 can lose about that share of its throughput to Weft: an estimate from two measured numbers, not a measurement of throughput.',
    `- ns per packet from 1k to 100k rules: varies ${flatPolicy}% on the policy path ${mark(flatPolicy <= 10)} and ${flatEst}% on the established path ${mark(flatEst <= 10)} (target ≤ 10%).`,
    '',
    'iptables: one linear chain in FORWARD that every packet to the server walks (bridged traffic via br_netfilter, no ESTABLISHED shortcut); ' +
      'nftables: the same pairs in one hashed set in the bridge family. Weft keeps flows in its own conntrack, so after the first packet of a flow it stops at one hash lookup; ' +
      'host addresses and single-port rules are hash lookups too, only CIDRs and port ranges walk an LPM trie. ' +
      'Latency is sockperf UDP ping-pong, one-way (RTT / 2). Throughput and latency depend on the two vCPUs that iperf3, the kernel and the other work on the machine share: ' +
      "the spread columns show how much one run differs from the next; the per-packet table is the programs' own cost, measured without that noise.",
  ].join('\n');
  writeReport({
    name: 'datapath',
    title: 'Datapath: Weft eBPF vs iptables vs nftables',
    method:
      '`flock /tmp/weft-bench.lock npm run bench:datapath` (root). Two pods in network namespaces joined by veth pairs to a bridge in a node namespace. ' +
      `${RUNS} runs; each run measures every configuration once, in rotating order: iperf3 (${SECONDS} s, 4 streams, then 1) and sockperf ping-pong (${SECONDS} s). The tables show the median of the runs and their spread. ` +
      "Rules: N (peer, TCP port) pairs that do not match the client, over N/10 peers (each in the ipcache), then the client's two ports, then drop. " +
      `Targets: ${PAIRS} A/B pairs of no policy and Weft at 10k rules, alternating (AB, BA, ...), each side iperf3 4 streams and sockperf for ${SECONDS} s. ` +
      `Per packet: BPF_PROG_TEST_RUN of the server's ingress program, every rule count loaded at once in its own maps, ${PER_PACKET_ROUNDS} interleaved rounds of 50 000 runs each. ` +
      `1-minute load average ${round(load[0], 1)} at the start, ${round(load[1], 1)} at the end (the machine is shared).`,
    markdown,
    results: { records, paired: ab, perPacket, raw, load },
  });
  log('wrote bench/results/datapath.json and docs/benchmarks.md');
}

await main();
