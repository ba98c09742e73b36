// npm run bench:hub — policy push through the hub's real rollout path until every site acked,
// embedded aedes vs Mosquitto, side by side in one run.
// Each run starts a whole hub (startHub: SQLite store, signing keys, broker, rollout engine, ingest,
// health) with the broker under test, enrolls N sites through the hub's enrollment code (each with
// its own device keys and one-time token), and connects them as real MQTT clients in separate
// processes (bench/hub-sites.ts) that verify each bundle's Ed25519 signature before acking.
// A push = PolicyVersions.push (validation + store) and RolloutEngine.create (one stage, all sites:
// record, sign and publish a bundle per site), until the engine marks the rollout completed from the
// acks the ingest fed it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { defaultConfig, enroll, MemoryPeers, startHub, type Hub, findMosquitto } from '../hub/index.ts';
import { deviceKeys, enrollRequest } from '../hub/testing/index.ts';
import { median, percentile, table, writeReport } from './lib/report.ts';
import type { SimReport, SimSite, StartMessage } from './hub-sites.ts';

type Kind = 'aedes' | 'mosquitto';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** A realistic policy set: a dozen allow rules; each push changes one port so every version differs. */
function policyYaml(push: number): string {
  return Array.from(
    { length: 12 },
    (_, i) => `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-${i}, namespace: shop}
spec:
  podSelector: {matchLabels: {app: svc-${i}}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{port: ${8000 + i + (i === 0 ? push : 0)}, protocol: TCP}]
`,
  ).join('---\n');
}

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
    // The hub's own enrollment path; the broker's files are synced once at the end instead of per site
    // (Mosquitto would otherwise reload n times: that measures bulk enrollment, not the push).
    const deps = { ...hub.services.enroll, onEnrolled: () => undefined };
    const sites: SimSite[] = [];
    for (let i = 0; i < n; i++) {
      const name = `site-${String(i).padStart(5, '0')}`;
      await hub.services.sites.create({ name, labels: { kind: 'store' }, lat: 0, lon: 0, clientCidrs: [], capacity: 100, services: [] }, 'bench');
      const { token } = await hub.services.sites.issueToken(name, 'bench');
      const r = await enroll(enrollRequest(name, deviceKeys(), token), deps);
      sites.push({ siteId: r.siteId, username: r.broker.username, password: r.broker.password });
    }
    await hub.broker.sync();
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

interface Sims {
  children: ChildProcess[];
  connected: number;
  failed: number;
  connectMs: number;
  firstError: string | null;
  rejected: number;
}

/** Site processes; the shell raises the fd limit first (each site holds one socket). */
async function spawnSims(url: string, sites: SimSite[], keys: StartMessage['keys'], processes: number): Promise<Sims> {
  const per = Math.ceil(sites.length / processes);
  const out: Sims = { children: [], connected: 0, failed: 0, connectMs: 0, firstError: null, rejected: 0 };
  await Promise.all(
    Array.from(
      { length: processes },
      (_, i) =>
        new Promise<void>((resolve, reject) => {
          const child = spawn('sh', ['-c', 'ulimit -n 65536 2>/dev/null; exec "$0" "$@"', process.execPath, 'bin/run.mjs', 'bench/hub-sites.ts'], {
            stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
          });
          out.children.push(child);
          child.once('exit', (code) => reject(new Error(`site process exited ${code}`)));
          child.on('message', (m: SimReport) => {
            if (m.type === 'rejected') out.rejected += 1;
            else {
              out.connected += m.connected;
              out.failed += m.failed;
              out.connectMs = Math.max(out.connectMs, m.ms);
              out.firstError ??= m.firstError;
              resolve();
            }
          });
          const start: StartMessage = { type: 'start', url, sites: sites.slice(i * per, (i + 1) * per), keys, concurrency: 100 };
          child.send(start);
        }),
    ),
  );
  return out;
}

async function stopSims(s: Sims): Promise<void> {
  await Promise.all(
    s.children.map(
      (c) =>
        new Promise<void>((resolve) => {
          c.removeAllListeners('exit');
          if (c.exitCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.send({ type: 'stop' });
          setTimeout(() => c.kill('SIGKILL'), 10_000).unref();
        }),
    ),
  );
}

interface PushTiming {
  /** Validating and storing the policy version. */
  versionMs: number;
  /** RolloutEngine.create: plan, then record, sign and publish every site's bundle (QoS 1, PUBACKed). */
  publishMs: number;
  /** From the start of the push until the engine marked the rollout completed. */
  totalMs: number;
}

/** One policy change through the hub; null if the rollout did not complete in time. */
async function push(hub: Hub, n: number): Promise<PushTiming | null> {
  const t0 = performance.now();
  const v = await hub.services.policies.push([{ name: 'bench.yaml', content: policyYaml(n) }], `bench push ${n}`, 'bench');
  const t1 = performance.now();
  const r = await hub.services.rollouts.create(
    { policyVersion: v.version, selector: { matchLabels: {} }, stages: [{ name: 'all', percent: 100 }], auditWindowS: 0 },
    'bench',
  );
  const t2 = performance.now();
  const deadline = t0 + 120_000;
  for (;;) {
    const state = (await hub.store.rollouts.get(r.id))!.state;
    if (state === 'completed') break;
    if (state !== 'running' || performance.now() > deadline) return null;
    await new Promise((res) => setTimeout(res, 2));
  }
  return { versionMs: t1 - t0, publishMs: t2 - t1, totalMs: performance.now() - t0 };
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
      brokerRssBaseMiB: Math.round(base.rss / 2 ** 20),
      brokerRssConnectedMiB: Math.round(connected.rss / 2 ** 20),
      bytesPerSite: Math.round(((connected.heap ?? connected.rss) - (base.heap ?? base.rss)) / Math.max(1, sims.connected)),
      rssBytesPerSite: Math.round((connected.rss - base.rss) / Math.max(1, sims.connected)),
      rejectedBundles: sims.rejected,
      firstError: sims.firstError,
    };
    process.stderr.write(
      `  ${kind} ${n} sites: enrolled in ${r.enrollMs} ms, connected ${r.connected} in ${r.connectMs} ms, push p50 ${r.p50Ms} ms p99 ${r.p99Ms} ms (record+sign+publish p50 ${r.publishP50Ms} ms), ${Math.round(r.bytesPerSite / 1024)} KiB/site\n`,
    );
    return r;
  } finally {
    if (sims) await stopSims(sims);
    await setup.hub.close();
    rmSync(setup.dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
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
