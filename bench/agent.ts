// npm run bench:agent (under the shared lock: flock /tmp/weft-bench.lock npm run bench:agent)
// The edge agent on a site with 1000 pods and no hub: how much memory it holds idle, how soon it enforces
// after a cold start (no pinned maps: the last-known-good is compiled and applied) and after kill -9 (the
// pinned maps are adopted), and how long a pod change takes to reach the kernel (recompile + apply).
// Side by side in one run: the agent as shipped (the single binary, when `npm run build:agent` works on this
// machine), as one esbuild bundle on the machine's node, and from a checkout through tsx; the kernel
// datapath against the in-memory one for the recompile-and-apply latency.
import { errorMessage } from '../base/index.ts';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Datapath } from '../datapath/index.ts';
import { LibbpfDatapath, MemoryDatapath } from '../datapath/index.ts';
import { openStore, type JsonValue } from '../offline-store/index.ts';
import { compile } from '../policy/index.ts';
import { buildSea, createLogger, Enforcer, type AppliedInfo } from '../edge-agent/index.ts';
import {
  bundle,
  bundleForTest,
  crashInventory,
  crashPolicies,
  enrollStore,
  FakeApiServer,
  hubKey,
  kubePod,
  ns,
  pod,
  SITE,
} from '../edge-agent/testing/index.ts';
import { median, percentile, table, writeReport } from './lib/report.ts';

const PODS = 1000;
const RUNS = Number(process.env.BENCH_AGENT_RUNS ?? 5);
const IDLE_S = Number(process.env.BENCH_AGENT_IDLE_S ?? 10);
const CHURN = Number(process.env.BENCH_AGENT_CHURN ?? 50);
const TARGET_RSS_MB = 60;
/** What the agent's launchers set (deploy/k3s/daemonset.yaml, the appliance's unit). */
const LEAN_NODE_OPTIONS = '--max-semi-space-size=1 --jitless';
const TARGET_ENFORCING_MS = 1000;
const repo = join(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'weft-wag-bench-'));
const pinPrefix = `/sys/fs/bpf/wag-bench-${process.pid}`;
const say = (m: string) => process.stderr.write(`bench:agent: ${m}\n`);

interface Launcher {
  form: string;
  argv: string[];
  env: NodeJS.ProcessEnv;
}

async function launchers(): Promise<{ list: Launcher[]; notes: string[]; cleanup: () => void }> {
  const notes: string[] = [];
  const list: Launcher[] = [];
  try {
    const sea = await buildSea({ out: join(work, 'weft-agent'), log: () => undefined });
    // As shipped: the DaemonSet and the systemd unit start it with LEAN_NODE_OPTIONS (docs/agent.md, "Memory").
    list.push({
      form: `single binary, NODE_OPTIONS=${LEAN_NODE_OPTIONS}`,
      argv: [sea.binary],
      env: { ...process.env, WEFT_BPF_ARTIFACTS: '', NODE_OPTIONS: LEAN_NODE_OPTIONS },
    });
    list.push({ form: 'single binary (SEA)', argv: [sea.binary], env: { ...process.env, WEFT_BPF_ARTIFACTS: '' } });
  } catch (e) {
    notes.push(`single binary not measured: npm run build:agent failed here (${errorMessage(e).split('\n')[0]})`);
  }
  const b = await bundleForTest(join(repo, 'edge-agent/cli/main.ts'), 'bench-agent');
  list.push({ form: 'esbuild bundle on node', argv: [process.execPath, b.file], env: b.env });
  list.push({ form: 'checkout via tsx', argv: [process.execPath, join(repo, 'bin/run.mjs'), join(repo, 'edge-agent/cli/main.ts')], env: process.env });
  return { list, notes, cleanup: b.cleanup };
}

/** Learned FQDN addresses the agent holds (issue 18: 10 000), restored into the kernel at start and copied back every fqdnSyncS. */
const LEARNED = Number(process.env.BENCH_AGENT_LEARNED ?? 10_000);

/** ClusterNetworkPolicies beside the NetworkPolicies: SaaS by name for every app, the rest denied. */
function clusterPolicies(): unknown[] {
  // BENCH_AGENT_CNP=0: the NetworkPolicies alone (A/B runs).
  if (process.env.BENCH_AGENT_CNP === '0') return [];
  const cnp = (name: string, priority: number, egress: unknown[]) => ({
    apiVersion: 'policy.networking.k8s.io/v1alpha2',
    kind: 'ClusterNetworkPolicy',
    metadata: { name },
    spec: { tier: 'Admin', priority, subject: { namespaces: {} }, egress },
  });
  return [
    cnp('saas-by-name', 10, [
      { name: 'dns', action: 'Accept', to: [{ networks: ['10.43.0.10/32'] }], protocols: [{ udp: { destinationPort: { number: 53 } } }] },
      {
        name: 'saas',
        action: 'Accept',
        to: [{ domainNames: ['api.stripe.com', '*.adyen.com', '*.salesforce.com', 'login.microsoftonline.com', '*.amazonaws.com'] }],
        protocols: [{ tcp: { destinationPort: { number: 443 } } }],
      },
    ]),
    cnp('in-cluster', 15, [{ name: 'pods', action: 'Pass', to: [{ namespaces: {} }] }]),
    cnp('deny-egress', 20, [{ name: 'rest', action: 'Deny', to: [{ networks: ['0.0.0.0/0'] }] }]),
  ];
}

/** An enrolled data dir whose last-known-good bundle (40 policies) covers 1000 pods; the hub never answers. */
function prepareSite(dir: string): void {
  const key = hubKey();
  const store = openStore(join(dir, 'agent.db'));
  enrollStore(store, key, 'mqtt://127.0.0.1:9');
  const b = store.bundles.recordReceived(bundle(key, 1, { policies: [...crashPolicies(1), ...clusterPolicies()] }), 1);
  store.bundles.setLastKnownGood(b.id);
  store.bundles.markApplied(b.id);
  store.config.set('inventory', crashInventory(PODS) as unknown as JsonValue);
  const until = Date.now() + 3600_000;
  store.fqdn.replaceAll(
    Array.from({ length: LEARNED }, (_, i) => ({ addr: `100.${64 + (i >> 16)}.${(i >> 8) & 0xff}.${i & 0xff}`, pattern: '*.amazonaws.com', expiresAt: until })),
  );
  store.close();
  writeFileSync(join(dir, 'agent.yaml'), `logLevel: info\ntunnel: 'off'\nkube: 'off'\nstatusPort: 0\ndatapath: libbpf\n`);
}

interface Started {
  child: ChildProcess;
  /** Spawn to the "enforcing" log line, as the caller saw it. */
  wallMs: number;
  /** The agent's own figure: process start to enforcing. */
  selfMs: number;
  /** CPU time (user + system) the agent had used when it logged "enforcing": steadier than wall time on a loaded machine. */
  cpuMs: number;
  restored: string;
}

/** utime + stime of a process so far, in ms (/proc/<pid>/stat, clock ticks of 10 ms). */
function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

function startAgent(l: Launcher, dir: string, pinRoot: string, extra: string[] = []): Promise<Started> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(
      l.argv[0],
      [
        ...l.argv.slice(1),
        'run',
        '--config',
        join(dir, 'agent.yaml'),
        '--data-dir',
        dir,
        '--pin-root',
        pinRoot,
        '--provision-file',
        join(dir, 'none'),
        ...extra,
      ],
      { env: { ...l.env, WEFT_CONFIG: '' }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let buf = '';
    let tail = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${l.form}: no "enforcing" within 60 s: ${tail}`));
    }, 60_000);
    child.stderr!.on('data', (d: Buffer) => {
      buf += d.toString();
      tail = (tail + d.toString()).slice(-2000);
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        let rec: { msg?: string; timeToEnforcingMs?: number; restored?: string };
        try {
          rec = JSON.parse(line) as typeof rec;
        } catch {
          continue;
        }
        if (rec.msg === 'enforcing') {
          clearTimeout(timer);
          resolve({ child, wallMs: performance.now() - t0, selfMs: rec.timeToEnforcingMs ?? NaN, cpuMs: cpuMsOf(child.pid!), restored: rec.restored ?? '?' });
        }
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${l.form}: exited ${code} before enforcing: ${tail}`));
    });
  });
}

interface Rss {
  /** VmRSS: what `ps` and the ≤ 60 MB target count. */
  total: number;
  /** RssAnon: the process's own memory (heap, stacks, malloc), without the file pages of its code. */
  anon: number;
}

function rssMb(pid: number): Rss {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) / 1024;
  return { total: kb('VmRSS'), anon: kb('RssAnon') };
}

/**
 * Drops the launcher's files from the page cache, as a reboot would. The file pages of its code count in
 * RSS as they are mapped, and a fault maps a whole folio of the page cache: a binary just written by the
 * build sits in large folios, and the same agent then shows 60–67 MB instead of ~54 MB. Pages mapped by a
 * running process (the bench's own node) stay.
 */
function evictFromPageCache(files: string[]): void {
  for (const f of files) spawnSync('dd', [`if=${f}`, 'iflag=nocache', 'count=0', 'status=none']);
}

async function kill9(c: ChildProcess): Promise<void> {
  c.removeAllListeners('exit');
  const gone = new Promise((r) => c.once('exit', r));
  c.kill('SIGKILL');
  await gone;
}

interface StartRow {
  form: string;
  coldWallMs: number[];
  coldSelfMs: number[];
  warmWallMs: number[];
  warmSelfMs: number[];
  coldCpuMs: number[];
  warmCpuMs: number[];
  idleRssMb: number;
  idleAnonMb: number;
  idleRssK3sMb: number;
  idleAnonK3sMb: number;
  restoredCold: string;
  restoredWarm: string;
}

async function measureStarts(l: Launcher): Promise<StartRow> {
  const row: StartRow = {
    form: l.form,
    coldWallMs: [],
    coldSelfMs: [],
    warmWallMs: [],
    warmSelfMs: [],
    coldCpuMs: [],
    warmCpuMs: [],
    idleRssMb: NaN,
    idleAnonMb: NaN,
    idleRssK3sMb: NaN,
    idleAnonK3sMb: NaN,
    restoredCold: '',
    restoredWarm: '',
  };
  for (let r = 0; r < RUNS; r++) {
    const dir = mkdtempSync(join(work, 'site-'));
    prepareSite(dir);
    const pinRoot = `${pinPrefix}-${r}`;
    try {
      evictFromPageCache(l.argv);
      const cold = await startAgent(l, dir, pinRoot);
      row.coldWallMs.push(cold.wallMs);
      row.coldSelfMs.push(cold.selfMs);
      row.coldCpuMs.push(cold.cpuMs);
      row.restoredCold = cold.restored;
      await kill9(cold.child);
      const warm = await startAgent(l, dir, pinRoot);
      row.warmWallMs.push(warm.wallMs);
      row.warmSelfMs.push(warm.selfMs);
      row.warmCpuMs.push(warm.cpuMs);
      row.restoredWarm = warm.restored;
      if (r === RUNS - 1) {
        await new Promise((res) => setTimeout(res, IDLE_S * 1000));
        ({ total: row.idleRssMb, anon: row.idleAnonMb } = rssMb(warm.child.pid!));
      }
      await kill9(warm.child);
    } finally {
      LibbpfDatapath.unpin(pinRoot);
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return row;
}

/**
 * Idle RSS with k3s in use (the agent's list/watch reflectors hold 1000 pods from an in-process API server),
 * measured on a restart like the figure without k3s: the first start (first boot) extracts the assets.
 * `evict: false` keeps the page cache as the build left it (the binary just written).
 */
async function idleWithK3s(l: Launcher, o: { evict: boolean }): Promise<Rss> {
  const objects = [ns('shop'), ...crashInventory(PODS).pods.map((p) => pod('shop', p.name, { labels: p.labels, ip: p.ips[0], node: 'node-1' }))];
  const api = await FakeApiServer.start({ objects });
  const dir = mkdtempSync(join(work, 'k3s-'));
  const pinRoot = `${pinPrefix}-k3s`;
  try {
    prepareSite(dir);
    api.writeKubeconfig(join(dir, 'kubeconfig'));
    const args = ['--kube', 'auto', '--kubeconfig', join(dir, 'kubeconfig'), '--node-name', 'node-1'];
    if (o.evict) evictFromPageCache(l.argv);
    await kill9((await startAgent(l, dir, pinRoot, args)).child);
    const a = await startAgent(l, dir, pinRoot, args);
    await new Promise((res) => setTimeout(res, IDLE_S * 1000));
    const rss = rssMb(a.child.pid!);
    await kill9(a.child);
    return rss;
  } finally {
    await api.stop();
    LibbpfDatapath.unpin(pinRoot);
    rmSync(dir, { recursive: true, force: true });
  }
}

interface ChurnRow {
  datapath: string;
  compileMs: number[];
  applyMs: number[];
  totalMs: number[];
}

/** Replace one pod per step (a rollout restarting pods one by one) and time inventory change -> kernel. */
async function measureChurn(kind: 'libbpf' | 'memory'): Promise<ChurnRow> {
  const pinRoot = `${pinPrefix}-churn`;
  const dp: Datapath = kind === 'libbpf' ? await LibbpfDatapath.open({ pinRoot }) : new MemoryDatapath();
  const row: ChurnRow = { datapath: kind === 'libbpf' ? 'kernel (libbpf)' : 'in-memory', compileMs: [], applyMs: [], totalMs: [] };
  let compileStart = 0;
  let compileMs = 0;
  const timedCompile: typeof compile = (...args) => {
    compileStart = performance.now();
    const t = compile(...args);
    compileMs = performance.now() - compileStart;
    return t;
  };
  let done: ((a: AppliedInfo) => void) | null = null;
  const enforcer = new Enforcer({
    datapath: dp,
    compile: timedCompile,
    resolveVeth: async () => new Map(),
    log: createLogger({ level: 'silent' }),
    debounceMs: 0,
    onApplied: (a) => done?.(a),
  });
  try {
    const snap = crashInventory(PODS);
    enforcer.seedInventory(snap);
    await enforcer.applyBundle(
      enforcer.prepare({ siteId: SITE, generation: 1, issuedAt: new Date().toISOString(), policyVersion: 1, policies: crashPolicies(1) }),
    );
    for (let i = 0; i < CHURN; i++) {
      const pods = snap.pods.slice();
      const gone = i % PODS;
      pods[gone] = kubePod('shop', `p${gone}-r${i}`, pods[gone].labels.app, pods[gone].ips[0]);
      const applied = new Promise<AppliedInfo>((r) => (done = r));
      const t0 = performance.now();
      enforcer.setInventory({ ...snap, pods });
      const a = await applied;
      row.totalMs.push(performance.now() - t0);
      row.compileMs.push(compileMs);
      row.applyMs.push(a.latencyS * 1000);
    }
  } finally {
    await enforcer.close();
    await dp.close();
    if (kind === 'libbpf') LibbpfDatapath.unpin(pinRoot);
  }
  return row;
}

const f = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : 'n/a');
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench:agent needs root (the kernel datapath, bpffs pins)');
  const loadBefore = loadavg();
  const launched = await launchers();
  const { notes, cleanup } = launched;
  // BENCH_AGENT_FORMS=1: only the agent as shipped (A/B runs on a loaded machine).
  const list = launched.list.slice(0, Number(process.env.BENCH_AGENT_FORMS ?? launched.list.length));
  // First, before any eviction: the shipped binary as the build wrote it (the page cache in large folios).
  say(`idle with k3s, binary just written: ${list[0].form}`);
  const justWritten = await idleWithK3s(list[0], { evict: false });
  const starts: StartRow[] = [];
  for (const l of list) {
    say(`starts: ${l.form}`);
    const row = await measureStarts(l);
    say(`idle with k3s: ${l.form}`);
    ({ total: row.idleRssK3sMb, anon: row.idleAnonK3sMb } = await idleWithK3s(l, { evict: true }));
    starts.push(row);
  }
  const churn: ChurnRow[] = [];
  for (const k of ['libbpf', 'memory'] as const) {
    say(`pod churn: ${k}`);
    churn.push(await measureChurn(k));
  }
  const loadAfter = loadavg();
  cleanup();

  const shipped = starts[0];
  const k3sRss = shipped.idleRssK3sMb;
  const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
  const rssOk = shipped.idleRssMb <= TARGET_RSS_MB;
  const k3sRssOk = k3sRss <= TARGET_RSS_MB;
  const coldOk = median(shipped.coldSelfMs) < TARGET_ENFORCING_MS;
  const warmOk = median(shipped.warmSelfMs) < TARGET_ENFORCING_MS;
  const markdown = [
    table(
      [
        'agent as',
        'idle RSS MB (own, anon)',
        'idle RSS with k3s MB (own, anon)',
        'cold start → enforcing, agent ms (median)',
        'cold, spawn → log line ms',
        'after kill -9 → enforcing, agent ms (median)',
        'after kill -9, spawn → log line ms',
        'restored cold / warm',
      ],
      starts.map((s) => [
        s.form,
        `${f1(s.idleRssMb)} (${f1(s.idleAnonMb)})`,
        `${f1(s.idleRssK3sMb)} (${f1(s.idleAnonK3sMb)})`,
        f(median(s.coldSelfMs)),
        f(median(s.coldWallMs)),
        f(median(s.warmSelfMs)),
        f(median(s.warmWallMs)),
        `${s.restoredCold} / ${s.restoredWarm}`,
      ]),
    ),
    '',
    table(
      ['datapath', 'pod change → live, ms p50', 'p95', 'compile ms p50', 'apply ms p50'],
      churn.map((c) => [c.datapath, f1(median(c.totalMs)), f1(percentile(c.totalMs, 95)), f1(median(c.compileMs)), f1(median(c.applyMs))]),
    ),
    '',
    `Targets, for ${shipped.form}: idle RSS ≤ ${TARGET_RSS_MB} MB — without k3s ${verdict(rssOk)} (${f1(shipped.idleRssMb)} MB), with k3s ${verdict(k3sRssOk)} (${f1(k3sRss)} MB); cold start to enforcing < 1 s — ${verdict(coldOk)} (${f(median(shipped.coldSelfMs))} ms); after kill -9 < 1 s — ${verdict(warmOk)} (${f(median(shipped.warmSelfMs))} ms). Idle RSS are as after a reboot (the binary read from disk); with the binary just written by the build (its pages still in the page cache in large folios), the same agent with k3s held ${f1(justWritten.total)} MB (${f1(justWritten.anon)} MB its own): the difference is clean file pages, mapped, which the kernel can reclaim under memory pressure.`,
    `CPU time the agent had used when it logged "enforcing" (user + system, steadier than wall time on a loaded machine): cold ${f(median(shipped.coldCpuMs))} ms, after kill -9 ${f(median(shipped.warmCpuMs))} ms (medians, ${shipped.form}).`,
    ...notes.map((n) => `Note: ${n}.`),
    `Load average (1, 5, 15 min) at the start ${loadBefore.map((x) => x.toFixed(1)).join(', ')}; at the end ${loadAfter.map((x) => x.toFixed(1)).join(', ')}.`,
  ].join('\n');
  writeReport({
    name: 'agent',
    title: 'Edge agent: idle memory, start to enforcing offline, pod churn at 1000 pods',
    method: `\`flock /tmp/weft-heavy.lock npm run bench:agent\`. A site with ${PODS} pods (persisted inventory) and a last-known-good bundle of 40 NetworkPolicies (ports, a CIDR peer, port ranges) and 3 ClusterNetworkPolicies (Admin: DNS and 5 SaaS domainNames accepted, in-cluster passed, the rest denied), with ${LEARNED} learned FQDN addresses in its store (restored into the kernel map at start, copied back every 30 s), enrolled to a hub that never answers. Cold start: fresh bpffs pin root, so the agent opens the store, verifies the bundle's signature, compiles it for ${PODS} pods and applies it to the kernel; after kill -9: the same start with the pinned maps left by the killed agent, which it adopts. "agent ms" is the agent's own figure (process start to the \`enforcing\` log line, also exported as weft_agent_time_to_enforcing_seconds); "spawn → log line" is the caller's wall clock and includes exec and the loader. ${RUNS} cold and ${RUNS} warm starts per form, medians shown. Idle RSS: VmRSS of the last warm agent after ${IDLE_S} s idle (enforcing, link retrying), and in parentheses its RssAnon (its own memory, without the file pages of its code). Before each series the launcher's files are dropped from the page cache (\`dd iflag=nocache count=0\`), as after a reboot: a fault maps a whole folio of the page cache, and a binary just written by the build sits in large folios (the same agent then shows 60–67 MB). With k3s: the same agent, restarted once (so, as on every boot after the first, its assets are already extracted), against an in-process API server serving the ${PODS} pods, which it lists and watches. Pod churn: one pod replaced per step (new name, same app and IP), ${CHURN} steps, time from the inventory change to the new tables live (debounce 0 here; the agent's default adds ${100} ms), for the kernel datapath and the in-memory one. No other agent runs beside it: the agents a site would otherwise run (Cilium, Calico Felix) need a Kubernetes control plane and their own CNI; the forms of Weft's agent are compared instead.`,
    markdown,
    results: {
      pods: PODS,
      runs: RUNS,
      idleSeconds: IDLE_S,
      churnSteps: CHURN,
      learnedFqdnAddresses: LEARNED,
      clusterNetworkPolicies: clusterPolicies().length,
      starts,
      idleWithK3sJustWritten: justWritten,
      churn,
      targets: { idleRssMb: TARGET_RSS_MB, enforcingMs: TARGET_ENFORCING_MS, met: { idleRss: rssOk, idleRssWithK3s: k3sRssOk, cold: coldOk, warm: warmOk } },
      notes,
      loadavg: { before: loadBefore, after: loadAfter },
    },
  });
  process.stdout.write(`${markdown}\n`);
}

main().then(
  () => {
    rmSync(work, { recursive: true, force: true });
    process.exit(0);
  },
  (e: unknown) => {
    process.stderr.write(`bench:agent: ${(e instanceof Error && e.stack) || String(e)}\n`);
    rmSync(work, { recursive: true, force: true });
    process.exit(1);
  },
);
