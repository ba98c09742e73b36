// npm run bench:hub — policy push to N sites until every site acked, embedded aedes vs Mosquitto,
// side by side in one run. Simulated sites are real MQTT clients in separate processes
// (bench/hub-sites.ts) that verify each bundle's Ed25519 signature before acking.
// The hub side here is the broker plus the hub's own publisher and ack collector (hub/broker's
// hubClient()), the same for both brokers; not the full hub (startHub has no Mosquitto option,
// and enrolling thousands of sites through the API would measure enrollment, not the push).
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { MqttClient } from 'mqtt';
import { encodeBundle, keyIdOf, signBundle } from '../policy/bundle.ts';
import { decode } from '../protocol/messages.ts';
import { parseSiteTopic, topics } from '../protocol/topics.ts';
import { startBroker } from '../hub/broker/aedes-broker.ts';
import { findMosquitto, startMosquitto } from '../hub/broker/mosquitto.ts';
import { testSites, type TestSites } from '../hub/broker/test-support.ts';
import type { Broker } from '../hub/broker/types.ts';
import { median, percentile, table, writeReport } from './lib/report.ts';
import type { SimReport, SimSite, StartMessage } from './hub-sites.ts';

type Kind = 'aedes' | 'mosquitto';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const keys = [{ keyId: keyIdOf(publicKey), publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString() }];
// A realistic bundle body: a default-deny baseline plus a dozen allow rules.
const policies = Array.from({ length: 12 }, (_, i) => ({
  apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: `allow-${i}`, namespace: 'shop' },
  spec: { podSelector: { matchLabels: { app: `svc-${i}` } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ port: 8000 + i, protocol: 'TCP' }] }] },
}));

interface Setup {
  broker: Broker;
  sites: TestSites;
  dir: string | null;
}

async function startKind(kind: Kind, n: number): Promise<Setup> {
  const sites = testSites(Array.from({ length: n }, (_, i) => `site-${String(i).padStart(5, '0')}`));
  if (kind === 'aedes') return { broker: await startBroker({ port: 0, auth: sites.auth }), sites, dir: null };
  const dir = mkdtempSync(join(tmpdir(), 'weft-bench-mosquitto-'));
  return { broker: await startMosquitto({ dir, port: 0, auth: sites.auth, credentials: () => sites.credentials() }), sites, dir };
}

interface BrokerMemory {
  /** Resident set: the hub process for aedes, the mosquitto process for Mosquitto. */
  rss: number;
  /** aedes only: V8 heap + external memory after a full GC (RSS keeps pages a GC freed). */
  heap: number | null;
}

async function brokerMemory(s: Setup): Promise<BrokerMemory> {
  if (!s.dir) {
    // Let closed sockets and timers of the previous run finish, then collect twice (weak refs, finalizers).
    await new Promise((r) => setTimeout(r, 500));
    gc();
    await new Promise((r) => setImmediate(r));
    gc();
    const m = process.memoryUsage();
    return { rss: m.rss, heap: m.heapUsed + m.external };
  }
  const conf = join(s.dir, 'mosquitto.conf');
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
async function spawnSims(url: string, sites: SimSite[], processes: number): Promise<Sims> {
  const per = Math.ceil(sites.length / processes);
  const out: Sims = { children: [], connected: 0, failed: 0, connectMs: 0, firstError: null, rejected: 0 };
  await Promise.all(Array.from({ length: processes }, (_, i) => new Promise<void>((resolve, reject) => {
    const child = spawn('sh', ['-c', 'ulimit -n 65536 2>/dev/null; exec "$0" "$@"', process.execPath, 'bin/run.mjs', 'bench/hub-sites.ts'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
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
  })));
  return out;
}

async function stopSims(s: Sims): Promise<void> {
  await Promise.all(s.children.map((c) => new Promise<void>((resolve) => {
    c.removeAllListeners('exit');
    if (c.exitCode !== null) return resolve();
    c.once('exit', () => resolve());
    c.send({ type: 'stop' });
    setTimeout(() => c.kill('SIGKILL'), 10_000).unref();
  })));
}

/** Counts `applied` acks per generation; resolves a push when every site acked it. */
class AckCollector {
  private readonly acked = new Map<number, Set<string>>();
  private waiter: { gen: number; n: number; resolve: () => void } | null = null;

  constructor(client: MqttClient) {
    client.on('message', (topic, payload) => {
      const t = parseSiteTopic(topic);
      if (t?.kind !== 'ack') return;
      const ack = decode('ack', payload);
      if (ack.result !== 'applied') return;
      let set = this.acked.get(ack.generation);
      if (!set) this.acked.set(ack.generation, (set = new Set()));
      set.add(t.siteId);
      if (this.waiter && this.waiter.gen === ack.generation && set.size >= this.waiter.n) this.waiter.resolve();
    });
  }

  all(gen: number, n: number, timeoutMs: number): Promise<boolean> {
    if ((this.acked.get(gen)?.size ?? 0) >= n) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.waiter = { gen, n, resolve: () => { clearTimeout(timer); this.waiter = null; resolve(true); } };
    });
  }

  count(gen: number): number {
    return this.acked.get(gen)?.size ?? 0;
  }
}

interface PushTiming {
  /** Signing every site's bundle (what the rollout does before publishing). */
  signMs: number;
  /** From the first publish until every site acked. */
  deliverMs: number;
}

/** One policy change: a new signed bundle per site, retained at QoS 1; null if not every site acked. */
async function push(hub: MqttClient, acks: AckCollector, siteIds: string[], gen: number): Promise<PushTiming | null> {
  const t0 = performance.now();
  const issuedAt = new Date().toISOString();
  const bundles = siteIds.map((siteId) => encodeBundle(signBundle({ siteId, generation: gen, issuedAt, policyVersion: gen, policies }, privateKey)));
  const t1 = performance.now();
  await Promise.all(siteIds.map((siteId, i) => hub.publishAsync(topics.bundle(siteId), bundles[i], { qos: 1, retain: true })));
  const ok = await acks.all(gen, siteIds.length, 60_000);
  return ok ? { signMs: t1 - t0, deliverMs: performance.now() - t1 } : null;
}

interface RunResult {
  broker: Kind;
  sites: number;
  connected: number;
  failedConnects: number;
  connectMs: number;
  pushes: number;
  completedPushes: number;
  /** Sign + deliver per push. */
  pushMs: number[];
  p50Ms: number;
  p99Ms: number;
  deliverP50Ms: number;
  deliverP99Ms: number;
  signP50Ms: number;
  brokerRssBaseMiB: number;
  brokerRssConnectedMiB: number;
  /** Memory per connected site: heap delta for aedes, RSS delta for Mosquitto. */
  bytesPerSite: number;
  rssBytesPerSite: number;
  rejectedBundles: number;
  firstError: string | null;
}

async function run(kind: Kind, n: number, pushes: number, processes: number): Promise<RunResult> {
  const setup = await startKind(kind, n);
  let sims: Sims | null = null;
  try {
    const hub = await setup.broker.hubClient();
    const acks = new AckCollector(hub);
    await hub.subscribeAsync(topics.allSites('ack'), { qos: 1 });
    const base = await brokerMemory(setup);
    const simSites = [...setup.sites.sites.values()].map(({ siteId, username, password }) => ({ siteId, username, password }));
    sims = await spawnSims(setup.broker.url(), simSites, processes);
    const connected = await brokerMemory(setup);
    const ids = simSites.map((s) => s.siteId);
    const times: PushTiming[] = [];
    let incomplete = 0;
    for (let gen = 1; gen <= pushes; gen++) {
      const t = await push(hub, acks, ids, gen);
      if (t === null) {
        incomplete += 1;
        process.stderr.write(`  ${kind} ${n}: push ${gen} incomplete, ${acks.count(gen)}/${n} acked\n`);
      } else times.push(t);
    }
    const total = times.map((t) => t.signMs + t.deliverMs);
    const deliver = times.map((t) => t.deliverMs);
    const r: RunResult = {
      broker: kind, sites: n, connected: sims.connected, failedConnects: sims.failed, connectMs: Math.round(sims.connectMs),
      pushes, completedPushes: pushes - incomplete, pushMs: total.map((t) => Math.round(t * 10) / 10),
      p50Ms: Math.round(median(total)), p99Ms: Math.round(percentile(total, 99)),
      deliverP50Ms: Math.round(median(deliver)), deliverP99Ms: Math.round(percentile(deliver, 99)),
      signP50Ms: Math.round(median(times.map((t) => t.signMs))),
      brokerRssBaseMiB: Math.round(base.rss / 2 ** 20), brokerRssConnectedMiB: Math.round(connected.rss / 2 ** 20),
      bytesPerSite: Math.round(((connected.heap ?? connected.rss) - (base.heap ?? base.rss)) / Math.max(1, sims.connected)),
      rssBytesPerSite: Math.round((connected.rss - base.rss) / Math.max(1, sims.connected)), rejectedBundles: sims.rejected, firstError: sims.firstError,
    };
    process.stderr.write(`  ${kind} ${n} sites: connected ${r.connected} in ${r.connectMs} ms, push p50 ${r.p50Ms} ms p99 ${r.p99Ms} ms (deliver p99 ${r.deliverP99Ms} ms), ${Math.round(r.bytesPerSite / 1024)} KiB/site\n`);
    return r;
  } finally {
    if (sims) await stopSims(sims);
    await setup.broker.close();
    if (setup.dir) rmSync(setup.dir, { recursive: true, force: true });
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
  // --max-sites=N and --broker=aedes|mosquitto run part of the plan (a quick check); the published
  // results use the full plan.
  const max = Number(process.argv.find((a) => a.startsWith('--max-sites='))?.split('=')[1] ?? 10_000);
  const results: RunResult[] = [];
  const loadBefore = loadavg();
  for (const p of plan.filter((x) => x.n <= max)) {
    for (const kind of kinds) {
      process.stderr.write(`${kind}: ${p.n} sites\n`);
      results.push(await run(kind, p.n, p.pushes, p.processes));
    }
  }
  const loadAfter = loadavg();
  const fdLimit = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'))?.replace(/\s+/g, ' ').trim() ?? 'unknown';
  const target = (n: number) => (n <= 100 ? 1000 : n <= 1000 ? 2000 : null);
  const rows = results.map((r) => [
    r.broker, r.sites, `${r.connected}${r.failedConnects ? ` (${r.failedConnects} failed)` : ''}`, r.connectMs, `${r.completedPushes}/${r.pushes}`,
    r.signP50Ms, r.deliverP50Ms, r.deliverP99Ms, r.p50Ms, r.p99Ms, target(r.sites) === null ? '—' : r.p99Ms < target(r.sites)! ? `< ${target(r.sites)} ✓` : `< ${target(r.sites)} ✗`,
    r.brokerRssConnectedMiB, (r.bytesPerSite / 1024).toFixed(1), (r.rssBytesPerSite / 1024).toFixed(1),
  ]);
  writeReport({
    name: 'hub',
    title: 'Hub: policy push to every site acked, embedded aedes vs Mosquitto',
    method: 'A policy change = one new Ed25519-signed bundle per site (12 NetworkPolicies), published retained at QoS 1 on each site\'s bundle topic by the hub\'s own MQTT client; '
      + 'time from the start of signing until every site acked `applied` (signing and delivery also shown apart). Simulated sites are real MQTT 3.1.1 clients (mqtt.js) in separate processes (bench/hub-sites.ts), each verifying the '
      + 'bundle signature, site and generation before acking. Same sites, bundles, publisher and ack collector for both brokers, in one run: the embedded aedes broker in the hub process and a '
      + 'Mosquitto process fed by the hub\'s password and ACL files. The hub side is the broker plus publisher and ack collector, not the full hub (no staged rollout or SQLite in the loop). '
      + `p50/p99 over 20 pushes (100 sites), 10 (1000), 3 (10 000). Memory per site: after all sites connected minus before, divided by sites; for aedes the hub process's V8 heap + external after a full GC (its RSS delta is shown too, but RSS keeps freed pages), for Mosquitto the mosquitto process's RSS. fd limit of the hub process: ${fdLimit}; site processes raise theirs with ulimit -n. `
      + `The machine is shared with other work: 1-minute load average ${loadBefore[0].toFixed(1)} at the start, ${loadAfter[0].toFixed(1)} at the end.`,
    markdown: table(['broker', 'sites', 'connected', 'connect all (ms)', 'pushes complete', 'sign p50 (ms)', 'publish→all acked p50 (ms)', 'p99 (ms)', 'push (sign+deliver) p50 (ms)', 'p99 (ms)', 'p99 target', 'broker RSS (MiB)', 'KiB per site', 'RSS KiB per site'], rows),
    results: { loadAverage: { before: loadBefore, after: loadAfter }, fdLimit, runs: results },
  });
}

main().then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`bench:hub failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
