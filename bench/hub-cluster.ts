// npm run bench:hub -- --cluster: the same push as bench/hub.ts (policy version, one-stage rollout to
// every site, until every site acked) through three hub replicas on one PostgreSQL, each running one
// node of a three-node NATS cluster (JetStream + MQTT), beside the single-process embedded hub with
// the same sites, in one run. Replicas b and c are processes of their own (bench/hub-replica.ts) so
// the rollout leader can be killed with SIGKILL; replica a runs in this process, enrolls the fleet
// through the hub's enrollment code and pushes (a follower: the leader picks the rollout up from the
// store). Sites are real MQTT clients in separate processes (bench/hub-sites.ts), spread over the
// three nodes, verifying every bundle before acking.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { defaultConfig, findNatsServer, localClusterSpecs, MemoryPeers, startHub, type Hub, type NatsNodeSpec } from '../hub/index.ts';
import { startPostgres, type TestPostgres } from '../hub/testing/index.ts';
import type { ReplicaStart } from './hub-replica.ts';
import type { SimSite } from './hub-sites.ts';
import { enrollFleet, push, spawnSims, stopSims, type PushTiming, type Sims } from './lib/hub-fleet.ts';
import { median, percentile, table, writeReport } from './lib/report.ts';

export interface ClusterRun {
  mode: 'cluster' | 'single';
  sites: number;
  pushes: number;
  completedPushes: number;
  p50Ms: number;
  p99Ms: number;
  pushMs: number[];
  publishP50Ms: number;
  /** CPU of this process over a push (single: the whole hub and broker; cluster: replica a only). */
  hubCpuP50Ms: number;
  connected: number;
  failedConnects: number;
  connectMs: number;
  enrollMs: number;
  rejectedBundles: number;
  firstError: string | null;
}

interface NodeMemory {
  node: string;
  sites: number;
  rssBaseMiB: number;
  rssConnectedMiB: number;
  rssBytesPerSite: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** RSS of the processes whose command line holds `needle` (a node's config path), by pid. */
function rssOf(needle: string): { pid: number; rss: number } | null {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle)) {
        return { pid: Number(pid), rss: Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024 };
      }
    } catch {
      // process ended while we looked
    }
  }
  return null;
}

interface Replica {
  name: string;
  dir: string;
  node: NatsNodeSpec;
  child: ChildProcess | null;
  pid: number;
}

function startReplica(r: Omit<Replica, 'child' | 'pid'>, store: string, keyFile: string, siteUrls: string[]): Promise<Replica> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/run.mjs', 'bench/hub-replica.ts'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('exit', (code) => reject(new Error(`hub replica ${r.name} exited ${code}`)));
    child.once('message', () => {
      child.removeAllListeners('exit');
      resolve({ ...r, child, pid: child.pid! });
    });
    child.send({ type: 'start', dir: r.dir, store, node: r.node, keyFile, siteUrls } satisfies ReplicaStart);
  });
}

/** The pid of the hub holding the rollout lease (its holder is `host:pid`). */
async function leaderPid(db: pg.Client): Promise<number | null> {
  const { rows } = await db.query<{ holder: string }>("SELECT holder FROM rollout_lease WHERE name = 'rollout'");
  const h = rows[0]?.holder;
  return h?.startsWith(`${hostname()}:`) ? Number(h.split(':')[1]) : null;
}

async function runCluster(
  n: number,
  pushes: number,
  processes: number,
): Promise<{ run: ClusterRun; failover: { addedMs: number; pushMs: number; newLeader: string } | null; memory: NodeMemory[] }> {
  const root = mkdtempSync(join(tmpdir(), 'whb-cluster-'));
  let postgres: TestPostgres | null = null;
  const replicas: Replica[] = [];
  let a: Hub | null = null;
  let sims: Sims | null = null;
  let db: pg.Client | null = null;
  try {
    postgres = await startPostgres();
    const store = await postgres.createDatabase('weft_bench');
    const specs = await localClusterSpecs(3, 'bn');
    const siteUrls = specs.map((s) => `mqtt://127.0.0.1:${s.mqttPort}`);
    const keyFile = join(root, 'broker.key');
    writeFileSync(keyFile, randomBytes(32), { mode: 0o600 });
    // All three at once: each hub's own MQTT session needs the R3 sessions stream, so every node must be up.
    const ca = defaultConfig(join(root, 'a'));
    Object.assign(ca, { httpsPort: 0, httpsHost: '127.0.0.1', httpPort: null, logLevel: 'silent', store });
    ca.mqtt = { broker: 'nats', hosts: ['127.0.0.1'], port: specs[0].mqttPort, siteUrls };
    ca.nats = { nodes: [specs[0]], keyFile };
    ca.wireguard.peers = new MemoryPeers();
    // The replicas share a's CA, signing keys and admin token (files, as docs/ops.md copies them): b and c
    // start once a wrote them.
    const starting = startHub(ca);
    const aDir = join(root, 'a');
    for (
      let i = 0;
      !(existsSync(join(aDir, 'pki', 'ca.crt')) && existsSync(join(aDir, 'admin-token')) && readdirSync(join(aDir, 'signing-keys')).length);
      i++
    ) {
      if (i > 600) throw new Error('hub a wrote no CA, signing keys or admin token');
      await sleep(100);
    }
    await sleep(300);
    for (const x of ['b', 'c']) for (const part of ['pki', 'signing-keys', 'admin-token']) cpSync(join(aDir, part), join(root, x, part), { recursive: true });
    const [hubA, b, c] = await Promise.all([
      starting,
      ...(['b', 'c'] as const).map((name, i) => startReplica({ name, dir: join(root, name), node: specs[i + 1] }, store, keyFile, siteUrls)),
    ]);
    a = hubA as Hub;
    replicas.push(b as Replica, c as Replica);
    const hub = a;
    const lease = new pg.Client({ connectionString: store });
    db = lease;
    await lease.connect();
    for (let i = 0; (await leaderPid(lease)) === null; i++) {
      if (i > 100) throw new Error('no hub took the rollout lease');
      await sleep(100);
    }
    const t0 = performance.now();
    const sites: SimSite[] = (await enrollFleet(hub, n)).map((s, i) => ({ ...s, url: siteUrls[i % 3] }));
    const enrollMs = performance.now() - t0;
    // Every replica re-reads the authorization after a's sync (weft/v1/hub/authz): give them a moment.
    await sleep(2000);
    const nodeDirs = ['a', 'b', 'c'].map((x, i) => ({ node: specs[i].name, needle: join(root, x, 'nats') }));
    const base = nodeDirs.map((d) => rssOf(d.needle)?.rss ?? 0);
    const keys = hub.services.keys.trusted(Date.now()).map((k) => ({ keyId: k.keyId, publicKey: k.publicKey }));
    sims = await spawnSims(siteUrls[0], sites, keys, processes);
    process.stderr.write(
      `  cluster ${n} sites: ${sims.connected} connected, ${sims.failed} failed (${sims.firstError ?? 'no error'}) in ${Math.round(sims.connectMs)} ms\n`,
    );
    await sleep(1000);
    const memory = nodeDirs.map((d, i): NodeMemory => {
      const rss = rssOf(d.needle)?.rss ?? 0;
      const on = sites.filter((_, k) => k % 3 === i).length;
      return {
        node: d.node,
        sites: on,
        rssBaseMiB: Math.round(base[i] / 2 ** 20),
        rssConnectedMiB: Math.round(rss / 2 ** 20),
        rssBytesPerSite: Math.round((rss - base[i]) / Math.max(1, on)),
      };
    });
    const times: PushTiming[] = [];
    let incomplete = 0;
    for (let i = 1; i <= pushes; i++) {
      const t = await push(hub, i);
      if (t === null) {
        incomplete += 1;
        process.stderr.write(`  cluster ${n}: push ${i} did not complete\n`);
        break;
      }
      times.push(t);
    }
    const total = times.map((t) => t.totalMs);
    const run: ClusterRun = {
      mode: 'cluster',
      sites: n,
      pushes,
      completedPushes: pushes - incomplete,
      p50Ms: Math.round(median(total)),
      p99Ms: Math.round(percentile(total, 99)),
      pushMs: total.map((t) => Math.round(t)),
      publishP50Ms: Math.round(median(times.map((t) => t.publishMs))),
      hubCpuP50Ms: Math.round(median(times.map((t) => t.cpuMs))),
      connected: sims.connected,
      failedConnects: sims.failed,
      connectMs: Math.round(sims.connectMs),
      enrollMs: Math.round(enrollMs),
      rejectedBundles: sims.rejected,
      firstError: sims.firstError,
    };
    // Failover: the leader (b or c) is killed with SIGKILL as soon as the rollout exists, mid-publish.
    let failover: { addedMs: number; pushMs: number; newLeader: string } | null = null;
    // The leader must be b or c to be killed: while a (this process) holds the lease, end a's lease
    // session in PostgreSQL (its advisory lock goes with it) and let the replicas race for it again.
    for (let i = 0; i < 10 && !incomplete && (await leaderPid(lease)) === process.pid; i++) {
      await lease.query(`SELECT pg_terminate_backend(l.pid) FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted`);
      await sleep(2500);
    }
    const pid = await leaderPid(lease);
    const victim = replicas.find((r) => r.pid === pid);
    if (incomplete) process.stderr.write('  cluster: a push did not complete (its rollout still runs); no failover run\n');
    else if (victim) {
      const t = await push(hub, pushes + 1, () => victim.child!.kill('SIGKILL'));
      const now = await leaderPid(lease);
      const newLeader = now === process.pid ? 'a' : (replicas.find((r) => r.pid === now)?.name ?? String(now));
      if (t) failover = { addedMs: Math.round(t.totalMs - run.p50Ms), pushMs: Math.round(t.totalMs), newLeader };
    } else process.stderr.write(`  cluster: the lease holder (pid ${pid}) is not a child replica; no failover run\n`);
    process.stderr.write(
      `  cluster ${n} sites: enrolled in ${run.enrollMs} ms, connected ${run.connected} in ${run.connectMs} ms, push p50 ${run.p50Ms} ms p99 ${run.p99Ms} ms, leader failover adds ${failover?.addedMs ?? '—'} ms\n`,
    );
    return { run, failover, memory };
  } finally {
    if (sims) await stopSims(sims);
    await db?.end().catch(() => undefined);
    await a?.close().catch(() => undefined);
    for (const r of replicas) r.child?.kill('SIGKILL');
    // A killed replica's NATS node outlives it (as on a machine whose hub process died): end it by its pid.
    for (const x of ['b', 'c']) {
      const p = rssOf(join(root, x, 'nats'));
      if (p) process.kill(p.pid, 'SIGKILL');
    }
    postgres?.remove();
    rmSync(root, { recursive: true, force: true });
  }
}

export async function clusterMain(singleRun: (n: number, pushes: number, processes: number) => Promise<ClusterRun>): Promise<void> {
  if (!findNatsServer()) throw new Error('nats-server is not installed (node scripts/setup.mjs installs it)');
  const max = Number(process.argv.find((x) => x.startsWith('--max-sites='))?.split('=')[1] ?? 10_000);
  const min = Number(process.argv.find((x) => x.startsWith('--min-sites='))?.split('=')[1] ?? 1000);
  // --max-sites/--min-sites run part of the plan (100 sites: a quick check); the published results use 1000 and 10 000.
  const plan = [
    { n: 100, pushes: 5, processes: 1 },
    { n: 1000, pushes: 5, processes: 1 },
    { n: 10_000, pushes: 3, processes: 2 },
  ].filter((p) => p.n <= max && p.n >= min);
  const loadBefore = loadavg();
  const runs: ClusterRun[] = [];
  const memory: Record<number, NodeMemory[]> = {};
  let leaderFailover: { addedMs: number; pushMs: number; newLeader: string; sites: number } | null = null;
  for (const p of plan) {
    process.stderr.write(`single: ${p.n} sites\n`);
    runs.push(await singleRun(p.n, p.pushes, p.processes));
    process.stderr.write(`cluster: ${p.n} sites\n`);
    const c = await runCluster(p.n, p.pushes, p.processes);
    runs.push(c.run);
    memory[p.n] = c.memory;
    if (c.failover) leaderFailover = { ...c.failover, sites: p.n };
  }
  const loadAfter = loadavg();
  const rows = runs.map((r) => [
    r.mode,
    r.sites,
    r.connected,
    r.connectMs,
    `${r.completedPushes}/${r.pushes}`,
    r.publishP50Ms,
    r.p50Ms,
    r.p99Ms,
    r.p99Ms < 2000 ? '< 2000 ✓' : '< 2000 ✗',
    r.hubCpuP50Ms,
  ]);
  const memRows = Object.entries(memory).flatMap(([n, ms]) =>
    ms.map((m) => [n, m.node, m.sites, m.rssBaseMiB, m.rssConnectedMiB, (m.rssBytesPerSite / 1024).toFixed(1)]),
  );
  writeReport({
    name: 'hub-cluster',
    title: 'Hub past one machine: push to every site acked, three replicas on a NATS cluster vs one embedded hub',
    method:
      'In one run, per size: the single-process hub (startHub, SQLite, embedded aedes) and then three hub replicas sharing one throwaway PostgreSQL (initdb under a temp dir, fsync off), each running one node of a three-node NATS cluster (Debian nats-server, JetStream and MQTT listener, R3 streams). ' +
      "Sites enroll through the hub's enrollment code and connect as real MQTT 3.1.1 clients in separate processes (bench/hub-sites.ts), spread round-robin over the three nodes in the cluster run; every bundle is verified (signature, site, generation) before the ack, which carries the outbox sequence like an agent's. " +
      'A push = a new policy version of 12 NetworkPolicies and a one-stage rollout to every site, timed until the rollout is completed in the store. In the cluster the push goes through replica a (a follower, in the bench process); the rollout leader (replica b or c, processes of their own) picks it up from the store on its periodic tick (1 s) and publishes through its own node; every replica hears the acks and the first to commit one records it. ' +
      'Leader failover: one more push, the leader killed with SIGKILL right after the rollout was created; addedMs = that push minus the cluster p50. Its NATS node keeps running (the hub process died, not the machine). The leader must be b or c: while a holds the lease, the bench ends its lease session in PostgreSQL and the replicas race again. ' +
      'Memory per site on each NATS node: the node process RSS after the sites connected minus before, over the sites connected to it. hub CPU: this process over a push (single: hub and broker; cluster: replica a only). ' +
      `The machine is shared with other work: 1-minute load average ${loadBefore[0].toFixed(1)} at the start, ${loadAfter[0].toFixed(1)} at the end.`,
    markdown: `${table(['mode', 'sites', 'connected', 'connect all (ms)', 'pushes complete', 'record+sign+publish p50 (ms)', 'push→all acked p50 (ms)', 'p99 (ms)', 'p99 target', 'hub CPU p50 (ms)'], rows)}\n\nLeader killed mid-push (${leaderFailover?.sites ?? '—'} sites): the push took ${leaderFailover?.pushMs ?? '—'} ms, ${leaderFailover?.addedMs ?? '—'} ms more than the p50; replica ${leaderFailover?.newLeader ?? '—'} took over.\n\n${table(['sites', 'NATS node', 'sites on it', 'RSS before (MiB)', 'RSS connected (MiB)', 'RSS KiB per site'], memRows)}`,
    results: { loadAverage: { before: loadBefore, after: loadAfter }, runs, leaderFailover, natsMemory: memory },
  });
}
