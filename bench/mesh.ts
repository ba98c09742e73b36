// npm run bench:mesh — site-to-site paths (issue 22) on the namespaces of field-tests/lib/mesh-net.ts
// (hub on the "internet", each site behind its own nftables NAT, the same pod range at both), with the
// real parts of field-tests/lib/mesh-sites.ts (HubTunnel relay, SiteTunnel on wireguard-go, MeshAgent):
//   1. link declared -> first packet through (the peer bundles applied, then the first TCP echo pod to pod);
//   2. throughput (iperf3, 3 s) and UDP ping-pong latency (sockperf, 3 s) pod to pod: direct path,
//      relayed through the hub (direct UDP blocked), and plain (no WireGuard: pod A through NAT A to a
//      server on the internet side: the ceiling);
//   3. failover: direct UDP blocked -> both sides relayed, and unblocked -> both direct, 3 times each.
// Run it under `flock /tmp/weft-heavy.lock` on a shared machine; the load average is recorded.
import { loadavg } from 'node:os';
import { createLogger } from '../edge-agent/index.ts';
import { Harness } from '../field-tests/lib/index.ts';
import { blockDirect } from '../field-tests/lib/mesh-net.ts';
import { startMeshSites, startPaths, waitUntil, type MeshSite, type MeshSites } from '../field-tests/lib/mesh-sites.ts';
import { median, table, writeReport } from './lib/report.ts';

const RUNS = 3;

interface PathResult {
  path: 'direct' | 'relayed' | 'plain';
  gbps: number;
  p50Us: number;
}

async function iperf(h: Harness, from: string, serverNs: string, host: string): Promise<number> {
  const server = h.spawn(serverNs, ['iperf3', '-s', '-1', '-p', '5201', '--forceflush'], { name: `iperf3-${serverNs}` });
  await server.waitForOutput(/Server listening/, 10_000);
  const out = await h.mustExec(from, ['iperf3', '-c', host, '-p', '5201', '-t', '3', '-J'], { timeoutMs: 60_000 });
  if (server.running) await server.kill('SIGTERM', 1000);
  return (JSON.parse(out) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second / 1e9;
}

async function sockperf(h: Harness, from: string, serverNs: string, host: string, bindHost: string): Promise<number> {
  const server = h.spawn(serverNs, ['sockperf', 'sr', '-i', bindHost, '-p', '11111'], { name: `sockperf-${serverNs}` });
  await new Promise((r) => setTimeout(r, 500));
  const out = await h.mustExec(from, ['sockperf', 'ping-pong', '-i', host, '-p', '11111', '-t', '3'], { timeoutMs: 30_000 });
  await server.kill('SIGTERM', 1000);
  const m = /percentile 50\.000 =\s+([\d.]+)/.exec(out);
  if (!m) throw new Error(`sockperf printed no median:\n${out}`);
  return Number(m[1]);
}

async function both(m: MeshSites, state: string): Promise<boolean> {
  const [a, b] = m.sites;
  return m.stateOf(a, b.id) === state && m.stateOf(b, a.id) === state;
}

async function main(): Promise<void> {
  const load = loadavg();
  const log = createLogger({ level: 'silent' });
  const h = await Harness.create();
  try {
    const m = await startMeshSites(h, log);
    const [a, b]: [MeshSite, MeshSite] = m.sites;
    await waitUntil(async () => (await m.hub.peers()).every((p) => p.endpoint !== null), 'both sites at the hub');
    // No link yet: no peers. Then the link is declared and distributed.
    await m.distribute(false);
    startPaths(m);
    const t0 = Date.now();
    await m.distribute(true);
    await waitUntil(() => m.reach(a, b.mapped, 300), 'first packet');
    const linkToFirstPacketMs = Date.now() - t0;
    await waitUntil(() => both(m, 'direct'), 'direct paths', 45_000);

    const paths: PathResult[] = [];
    paths.push({ path: 'direct', gbps: await iperf(h, a.net.pod, b.net.pod, b.mapped), p50Us: await sockperf(h, a.net.pod, b.net.pod, b.mapped, '0.0.0.0') });
    await blockDirect(h, m.net, true);
    await waitUntil(() => both(m, 'relayed'), 'relayed', 15_000);
    paths.push({ path: 'relayed', gbps: await iperf(h, a.net.pod, b.net.pod, b.mapped), p50Us: await sockperf(h, a.net.pod, b.net.pod, b.mapped, '0.0.0.0') });
    await blockDirect(h, m.net, false);
    await waitUntil(() => both(m, 'direct'), 'direct again', 30_000);
    // Plain: no WireGuard, pod A through NAT A to a server on the internet side (the hub's namespace):
    // the same veths and NAT, no tunnel (B's NAT admits nothing it did not ask for).
    paths.push({
      path: 'plain',
      gbps: await iperf(h, a.net.pod, m.net.hub, m.net.hubIp),
      p50Us: await sockperf(h, a.net.pod, m.net.hub, m.net.hubIp, m.net.hubIp),
    });

    const toRelay: number[] = [];
    const toDirect: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      let t = Date.now();
      await blockDirect(h, m.net, true);
      await waitUntil(() => both(m, 'relayed'), 'relayed', 15_000);
      toRelay.push(Date.now() - t);
      await waitUntil(() => m.reach(a, b.mapped), 'traffic through the relay', 10_000);
      t = Date.now();
      await blockDirect(h, m.net, false);
      await waitUntil(() => both(m, 'direct'), 'direct', 30_000);
      toDirect.push(Date.now() - t);
    }
    const results = {
      linkToFirstPacketMs,
      paths,
      directToRelayMs: median(toRelay),
      relayToDirectMs: median(toDirect),
      runs: { directToRelayMs: toRelay, relayToDirectMs: toDirect },
      loadAvg: load.map((x) => Math.round(x * 100) / 100),
    };
    writeReport({
      name: 'mesh',
      title: 'Site to site (npm run bench:mesh)',
      method:
        'Two sites behind their own nftables NATs, the hub on the "internet" (network namespaces on one machine), WireGuard on wireguard-go (no kernel module here). ' +
        'iperf3 3 s and sockperf UDP ping-pong 3 s between a pod at each site; relayed = direct UDP between the NATs dropped, traffic through the hub; ' +
        `plain = no WireGuard (pod A through NAT A to a server on the internet side, the hub's namespace). Failover times are the median of ${RUNS} block/unblock rounds, ` +
        `measured until both sides report the new path (checked every 250 ms). Load average at start: ${results.loadAvg.join(' / ')} (2 cores shared with other sessions).`,
      markdown: [
        table(
          ['path', 'Gbit/s', 'p50 latency (µs)'],
          paths.map((p) => [p.path, p.gbps.toFixed(2), p.p50Us.toFixed(0)]),
        ),
        '',
        table(
          ['measure', 'ms'],
          [
            ['link declared -> first packet', linkToFirstPacketMs],
            ['direct -> relayed (median)', results.directToRelayMs],
            ['relayed -> direct (median)', results.relayToDirectMs],
          ],
        ),
      ].join('\n'),
      results,
    });
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  } finally {
    await h.cleanup();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:mesh: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
