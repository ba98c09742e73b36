// npm run bench:datapath — Weft's tc/eBPF datapath against no policy, iptables (linear chain) and
// nftables (hashed set), same rules, two pods in network namespaces over veth and a bridge:
// iperf3 throughput (4 streams and 1), sockperf UDP ping-pong latency (p50, p99), and the
// programs' ns per packet under BPF_PROG_TEST_RUN against the rule count. Needs root.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LibbpfDatapath } from '../bpf/libbpf-datapath.ts';
import { frame } from '../bpf/packet.ts';
import { Topology } from '../bpf/testing/netns.ts';
import { median, table, writeReport } from './lib/report.ts';
import { iptablesRules, IPERF_PORT, nftRules, SOCKPERF_PORT, weftTables } from './datapath/rules.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const RULE_COUNTS = [1000, 10_000, 100_000];

interface Record {
  impl: 'none' | 'weft' | 'iptables' | 'nftables';
  rules: number;
  throughput_gbps: number;
  throughput_1stream_gbps: number;
  latency_p50_us: number;
  latency_p99_us: number;
  runs: number;
}

const log = (m: string) => process.stderr.write(`bench:datapath: ${m}\n`);
const inNs = (netns: string, cmd: string[], input?: string) => execFileSync('ip', ['netns', 'exec', netns, ...cmd], { encoding: 'utf8', input, maxBuffer: 64 << 20, stdio: ['pipe', 'pipe', 'pipe'] });

function iperf(topo: Topology, streams: number): number {
  const [c, s] = topo.pods;
  const out = JSON.parse(inNs(c.netns, ['iperf3', '-c', s.ip, '-p', String(IPERF_PORT), '-t', String(SECONDS), '-P', String(streams), '-J'])) as { end: { sum_received: { bits_per_second: number } } };
  return out.end.sum_received.bits_per_second / 1e9;
}

/** sockperf ping-pong: its percentiles are of one-way latency (RTT / 2), in µs. */
function sockperf(topo: Topology): { p50: number; p99: number } {
  const [c, s] = topo.pods;
  const out = inNs(c.netns, ['sockperf', 'pp', '-i', s.ip, '-p', String(SOCKPERF_PORT), '-t', String(SECONDS)]);
  const pct = (p: string) => Number(new RegExp(`percentile ${p} =\\s+([\\d.]+)`).exec(out)?.[1] ?? NaN);
  return { p50: pct('50.000'), p99: pct('99.000') };
}

interface Sample {
  gbps4: number;
  gbps1: number;
  p50: number;
  p99: number;
}

function sample(topo: Topology): Sample {
  return { gbps4: iperf(topo, 4), gbps1: iperf(topo, 1), ...sockperf(topo) };
}

function summarize(impl: Record['impl'], rules: number, samples: Sample[]): Record {
  return {
    impl,
    rules,
    throughput_gbps: round(median(samples.map((s) => s.gbps4)), 2),
    throughput_1stream_gbps: round(median(samples.map((s) => s.gbps1)), 2),
    latency_p50_us: round(median(samples.map((s) => s.p50)), 2),
    latency_p99_us: round(median(samples.map((s) => s.p99)), 2),
    runs: samples.length,
  };
}

const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;

function servers(topo: Topology): ChildProcess[] {
  const s = topo.pods[1];
  return [
    spawn('ip', ['netns', 'exec', s.netns, 'iperf3', '-s', '-p', String(IPERF_PORT)], { stdio: 'ignore' }),
    spawn('ip', ['netns', 'exec', s.netns, 'sockperf', 'sr', '-i', s.ip, '-p', String(SOCKPERF_PORT)], { stdio: 'ignore' }),
  ];
}

/**
 * ns per packet of the programs: a new flow walks every lookup (denied, so it stays new and is
 * reported on the ring buffer); an established one stops at conntrack. Runs are short enough for
 * the ring buffer to take every event, and drained between runs, so the deny path pays for its report.
 */
function progTestRun(dp: LibbpfDatapath, pair: { client: string; server: string }, rules: number): { path: string; ns: number }[] {
  const repeat = 10_000;
  const fresh = frame({ proto: 6, src: pair.client, dst: pair.server, sport: 40000, dport: 9 });
  const established = frame({ proto: 6, src: pair.client, dst: pair.server, sport: 40001, dport: IPERF_PORT });
  dp.testRun('ingress', established);
  const med = (f: Buffer) =>
    median(
      Array.from({ length: 21 }, () => {
        dp.drainEvents();
        return dp.testRun('ingress', f, repeat).durationNs;
      }),
    );
  return [
    { path: rules ? 'new flow: policy lookup, denied, reported' : 'new flow: no policy selects the pod', ns: med(fresh) },
    { path: 'established: conntrack hit', ns: med(established) },
  ];
}

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
  const pinRoot = `/sys/fs/bpf/weft-bench-${process.pid}`;
  const tmp = mkdtempSync(join(tmpdir(), 'weft-bench-'));
  const procs = servers(topo);
  let dp: LibbpfDatapath | undefined;
  const cleanup = async () => {
    for (const p of procs) p.kill();
    await dp?.close();
    LibbpfDatapath.unpin(pinRoot);
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
    const configs: Config[] = [
      { impl: 'none', rules: 0, up: async () => undefined, down: async () => undefined },
      ...[0, ...RULE_COUNTS].map((rules): Config => ({
        impl: 'weft',
        rules,
        up: async () => {
          const t0 = Date.now();
          await weft.apply(weftTables(pair, rules), gen++);
          log(`weft: applied ${rules} rules in ${Date.now() - t0} ms`);
          for (const p of topo.pods) await weft.attach({ pod: p.name, ifindex: p.ifindex, ips: [p.ip] });
        },
        down: async () => {
          for (const p of topo.pods) await weft.detach({ pod: p.name, ifindex: p.ifindex, ips: [] });
          weft.flushConntrack();
        },
      })),
      ...RULE_COUNTS.map((rules): Config => ({
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
      })),
      ...RULE_COUNTS.map((rules): Config => ({
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
      })),
    ];

    // Round-robin over the configurations, so load from other work on the machine spreads over all of them.
    const samples = new Map<Config, Sample[]>(configs.map((c) => [c, []]));
    for (let run = 1; run <= RUNS; run++) {
      for (const c of configs) {
        await c.up();
        try {
          const s = sample(topo);
          samples.get(c)!.push(s);
          log(`run ${run}/${RUNS} ${c.impl} ${c.rules}: ${JSON.stringify(s)}`);
        } finally {
          await c.down();
        }
      }
    }
    const records = configs.map((c) => summarize(c.impl, c.rules, samples.get(c)!));

    const perPacket: { rules: number; path: string; ns: number }[] = [];
    for (const rules of [0, ...RULE_COUNTS]) {
      await weft.apply(weftTables(pair, rules), gen++);
      for (const r of progTestRun(weft, pair, rules)) perPacket.push({ rules, ...r });
      weft.flushConntrack();
    }
    report(records, perPacket);
  } finally {
    await cleanup();
  }
}

function report(records: Record[], perPacket: { rules: number; path: string; ns: number }[]): void {
  const none = records.find((r) => r.impl === 'none')!;
  const weft10k = records.find((r) => r.impl === 'weft' && r.rules === 10_000)!;
  const flat = (path: string) => {
    const xs = perPacket.filter((p) => p.path === path && p.rules >= 1000).map((p) => p.ns);
    return round((Math.max(...xs) / Math.min(...xs) - 1) * 100, 1);
  };
  const markdown = [
    table(
      ['impl', 'rules', 'TCP Gbit/s (4 streams)', 'TCP Gbit/s (1 stream)', 'p50 µs', 'p99 µs'],
      records.map((r) => [r.impl, r.rules, r.throughput_gbps, r.throughput_1stream_gbps, r.latency_p50_us, r.latency_p99_us]),
    ),
    '',
    table(['rules', 'path', 'ns / packet (BPF_PROG_TEST_RUN)'], perPacket.map((p) => [p.rules, p.path, p.ns])),
    '',
    `Targets: at 10k rules Weft keeps ${round((weft10k.throughput_gbps / none.throughput_gbps) * 100, 1)}% of no-policy throughput (target ≥ 97%) ` +
      `and adds ${round(weft10k.latency_p50_us - none.latency_p50_us, 2)} µs p50 (target ≤ 5 µs); ` +
      `ns per packet varies ${flat('new flow: policy lookup, denied, reported')}% from 1k to 100k rules on the policy path and ${flat('established: conntrack hit')}% on the established path (target ≤ 10%).`,
    '',
    'iptables: one linear chain in FORWARD that every packet to the server walks (bridged traffic via br_netfilter, no ESTABLISHED shortcut); ' +
      'nftables: the same pairs in one hashed set in the bridge family. Weft keeps flows in its own conntrack, so after the first packet of a flow it stops at one hash lookup. ' +
      'Latency is sockperf UDP ping-pong, one-way (RTT / 2). The machine is shared: other work on it shows as noise, mostly in p99.',
  ].join('\n');
  writeReport({
    name: 'datapath',
    title: 'Datapath: Weft eBPF vs iptables vs nftables',
    method: `\`npm run bench:datapath\` (root). Two pods in network namespaces joined by veth pairs to a bridge in a node namespace. Each configuration: ${RUNS} runs of iperf3 (${SECONDS} s, 4 streams and 1) and sockperf ping-pong (${SECONDS} s); the table shows medians. Rules: N (peer, TCP port) pairs that do not match the client, then the client's two ports, then drop.`,
    markdown,
    results: { records, perPacket },
  });
  log('wrote bench/results/datapath.json and docs/benchmarks.md');
}

await main();
