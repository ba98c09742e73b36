// npm run bench:hub — policy push through the hub's real rollout path until every site acked,
// embedded aedes vs Mosquitto, side by side in one run.
// Each run starts a whole hub (startHub: SQLite store, signing keys, broker, rollout engine, ingest,
// health) with the broker under test, enrolls N sites through the hub's enrollment code (each with
// its own device keys and one-time token), and connects them as real MQTT clients in separate
// processes (bench/hub-sites.ts) that verify each bundle's Ed25519 signature before acking.
// A push = PolicyVersions.push (validation + store) and RolloutEngine.create (one stage, all sites:
// record, sign and publish a bundle per site), until the engine marks the rollout completed from the
// acks the ingest fed it.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { defaultConfig, MemoryPeers, startHub, type Hub, findMosquitto } from '../hub/index.ts';
import { enrollFleet, push, spawnSims, stopSims, type PushTiming, type Sims } from './lib/hub-fleet.ts';
import { median, percentile, table, writeReport } from './lib/report.ts';
import type { SimSite } from './hub-sites.ts';

type Kind = 'aedes' | 'mosquitto';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

interface Setup {
  hub: Hub;
  dir: string;
  sites: SimSite[];
  enrollMs: number;
}

/** A whole hub on a temp dir with n sites enrolled through its enrollment code. */
async function startFleetHub(kind: Kind, n: number): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'whb-bench-'));
  const c = defaultConfig(dir);
  Object.assign(c, { httpsPort: 0, httpsHost: '127.0.0.1', httpPort: null, logLevel: 'silent' });
  c.mqtt = { broker: kind, hosts: ['127.0.0.1'], port: 0 };
  c.wireguard.peers = new MemoryPeers();
  const hub = await startHub(c);
  try {
    const t0 = performance.now();
    const sites = await enrollFleet(hub, n);
    return { hub, dir, sites, enrollMs: performance.now() - t0 };
  } catch (e) {
    await hub.close();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

interface BrokerMemory {
  /** Resident set: the hub process for aedes, the mosquitto process for Mosquitto. */
  rss: number;
  /** aedes only: V8 heap + external memory after a full GC (RSS keeps pages a GC freed). */
  heap: number | null;
}

async function brokerMemory(s: Setup): Promise<BrokerMemory> {
  if (s.hub.broker.kind === 'aedes') {
    // Let closed sockets and timers of the previous run finish, then collect twice (weak refs, finalizers).
    await new Promise((r) => setTimeout(r, 500));
    gc();
    await new Promise((r) => setImmediate(r));
    gc();
    const m = process.memoryUsage();
    return { rss: m.rss, heap: m.heapUsed + m.external };
  }
  const conf = join(s.dir, 'mosquitto', 'mosquitto.conf');
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(conf)) {
        return { rss: Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024, heap: null };
      }
    } catch {
      // process ended while we looked
    }
  }
  throw new Error('mosquitto process not found');
}

interface RunResult {
  broker: Kind;
  sites: number;
  enrollMs: number;
  connected: number;
  failedConnects: number;
  connectMs: number;
  pushes: number;
  completedPushes: number;
  pushMs: number[];
  p50Ms: number;
  p99Ms: number;
  publishP50Ms: number;
  versionP50Ms: number;
  /** Hub process CPU per push, median. */
  hubCpuP50Ms: number;
  brokerRssBaseMiB: number;
  brokerRssConnectedMiB: number;
  /** Memory per connected site: heap delta for aedes, RSS delta for Mosquitto. */
  bytesPerSite: number;
  rssBytesPerSite: number;
  rejectedBundles: number;
  firstError: string | null;
}

async function run(kind: Kind, n: number, pushes: number, processes: number): Promise<RunResult> {
  const setup = await startFleetHub(kind, n);
  let sims: Sims | null = null;
  try {
    const { hub } = setup;
    const base = await brokerMemory(setup);
    const keys = hub.services.keys.trusted(Date.now()).map((k) => ({ keyId: k.keyId, publicKey: k.publicKey }));
    sims = await spawnSims(hub.broker.url(), setup.sites, keys, processes);
    const connected = await brokerMemory(setup);
    const times: PushTiming[] = [];
    let incomplete = 0;
    for (let i = 1; i <= pushes; i++) {
      const t = await push(hub, i);
      if (t === null) {
        incomplete += 1;
        process.stderr.write(`  ${kind} ${n}: push ${i} did not complete\n`);
      } else times.push(t);
    }
    const total = times.map((t) => t.totalMs);
    const r: RunResult = {
      broker: kind,
      sites: n,
      enrollMs: Math.round(setup.enrollMs),
      connected: sims.connected,
      failedConnects: sims.failed,
      connectMs: Math.round(sims.connectMs),
      pushes,
      completedPushes: pushes - incomplete,
      pushMs: total.map((t) => Math.round(t * 10) / 10),
      p50Ms: Math.round(median(total)),
      p99Ms: Math.round(percentile(total, 99)),
      publishP50Ms: Math.round(median(times.map((t) => t.publishMs))),
      versionP50Ms: Math.round(median(times.map((t) => t.versionMs))),
      hubCpuP50Ms: Math.round(median(times.map((t) => t.cpuMs))),
      brokerRssBaseMiB: Math.round(base.rss / 2 ** 20),
      brokerRssConnectedMiB: Math.round(connected.rss / 2 ** 20),
      bytesPerSite: Math.round(((connected.heap ?? connected.rss) - (base.heap ?? base.rss)) / Math.max(1, sims.connected)),
      rssBytesPerSite: Math.round((connected.rss - base.rss) / Math.max(1, sims.connected)),
      rejectedBundles: sims.rejected,
      firstError: sims.firstError,
    };
    process.stderr.write(
      `  ${kind} ${n} sites: enrolled in ${r.enrollMs} ms, connected ${r.connected} in ${r.connectMs} ms, push p50 ${r.p50Ms} ms p99 ${r.p99Ms} ms (record+sign+publish p50 ${r.publishP50Ms} ms, hub CPU p50 ${r.hubCpuP50Ms} ms), ${Math.round(r.bytesPerSite / 1024)} KiB/site\n`,
    );
    return r;
  } finally {
    if (sims) await stopSims(sims);
    await setup.hub.close();
    rmSync(setup.dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (process.argv.includes('--cluster')) {
    const { clusterMain } = await import('./hub-cluster.ts');
    return clusterMain(async (n, pushes, processes) => {
      const r = await run('aedes', n, pushes, processes);
      return {
        mode: 'single',
        sites: n,
        pushes,
        completedPushes: r.completedPushes,
        p50Ms: r.p50Ms,
        p99Ms: r.p99Ms,
        pushMs: r.pushMs,
        publishP50Ms: r.publishP50Ms,
        hubCpuP50Ms: r.hubCpuP50Ms,
        connected: r.connected,
        failedConnects: r.failedConnects,
        connectMs: r.connectMs,
        enrollMs: r.enrollMs,
        rejectedBundles: r.rejectedBundles,
        firstError: r.firstError,
      };
    });
  }
  const only = process.argv.find((a) => a.startsWith('--broker='))?.split('=')[1];
  let kinds: Kind[] = findMosquitto() ? ['aedes', 'mosquitto'] : ['aedes'];
  if (kinds.length === 1) process.stderr.write('mosquitto not installed: running the embedded broker only\n');
  if (only) kinds = kinds.filter((k) => k === only);
  const plan: { n: number; pushes: number; processes: number }[] = [
    { n: 100, pushes: 20, processes: 1 },
    { n: 1000, pushes: 10, processes: 1 },
    { n: 10_000, pushes: 3, processes: 2 },
  ];
  // --max-sites=N, --min-sites=N and --broker=aedes|mosquitto run part of the plan (a quick check); the published
  // results use the full plan.
  const max = Number(process.argv.find((a) => a.startsWith('--max-sites='))?.split('=')[1] ?? 10_000);
  const min = Number(process.argv.find((a) => a.startsWith('--min-sites='))?.split('=')[1] ?? 0);
  const results: RunResult[] = [];
  const loadBefore = loadavg();
  for (const p of plan.filter((x) => x.n <= max && x.n >= min)) {
    for (const kind of kinds) {
      process.stderr.write(`${kind}: ${p.n} sites\n`);
      results.push(await run(kind, p.n, p.pushes, p.processes));
    }
  }
  const loadAfter = loadavg();
  const fdLimit =
    readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'))
      ?.replace(/\s+/g, ' ')
      .trim() ?? 'unknown';
  const target = (n: number) => (n <= 100 ? 1000 : n <= 1000 ? 2000 : null);
  const rows = results.map((r) => [
    r.broker,
    r.sites,
    `${r.connected}${r.failedConnects ? ` (${r.failedConnects} failed)` : ''}`,
    r.connectMs,
    `${r.completedPushes}/${r.pushes}`,
    r.versionP50Ms,
    r.publishP50Ms,
    r.p50Ms,
    r.p99Ms,
    target(r.sites) === null ? '—' : r.p99Ms < target(r.sites)! ? `< ${target(r.sites)} ✓` : `< ${target(r.sites)} ✗`,
    r.brokerRssConnectedMiB,
    (r.bytesPerSite / 1024).toFixed(1),
    (r.rssBytesPerSite / 1024).toFixed(1),
  ]);
  writeReport({
    name: 'hub',
    title: 'Hub: policy push to every site acked, embedded aedes vs Mosquitto',
    method:
      "The real rollout path of a whole hub (startHub: SQLite store, signing keys, broker, rollout engine, MQTT ingest, health), once with the embedded aedes broker and once with a supervised Mosquitto fed by the hub's password and ACL files, in one run. " +
      "Each run enrolls N sites through the hub's enrollment code (own device keys, one-time token each) and connects them as real MQTT 3.1.1 clients (mqtt.js) in separate processes (bench/hub-sites.ts), which verify every bundle's Ed25519 signature, site and generation before acking `applied`. " +
      'A push = a new policy version of 12 NetworkPolicies (validated and stored), then a rollout to every site in one stage: the engine records, signs and publishes one bundle per site (retained, QoS 1) and completes when the acks came back through the ingest. ' +
      'Time: from the push until the engine marked the rollout completed; "version" and "record+sign+publish" are the first two steps of it. ' +
      `p50/p99 over 20 pushes (100 sites), 10 (1000), 3 (10 000). Memory per site: after all sites connected minus before (sites enrolled, none connected), divided by sites; for aedes the hub process's V8 heap + external after a full GC (its RSS delta is shown too, but RSS keeps freed pages), for Mosquitto the mosquitto process's RSS. fd limit of the hub process: ${fdLimit}; site processes raise theirs with ulimit -n. ` +
      `The machine is shared with other work: 1-minute load average ${loadBefore[0].toFixed(1)} at the start, ${loadAfter[0].toFixed(1)} at the end.`,
    markdown: table(
      [
        'broker',
        'sites',
        'connected',
        'connect all (ms)',
        'pushes complete',
        'version p50 (ms)',
        'record+sign+publish p50 (ms)',
        'push→all acked p50 (ms)',
        'p99 (ms)',
        'p99 target',
        'broker RSS (MiB)',
        'KiB per site',
        'RSS KiB per site',
      ],
      rows,
    ),
    results: { loadAverage: { before: loadBefore, after: loadAfter }, fdLimit, runs: results },
  });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:hub failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
