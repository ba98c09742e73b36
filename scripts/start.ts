// `npm start`: the whole fabric on one machine. The hub (API + OpenAPI, broker, SQLite, DNS and
// HTTP router) runs in this process on the host; as root, N demo sites run in network namespaces
// (field-tests/lib builds them), each with the real agent, k3s pods and the demo policy rolled out.
// Ctrl-C (SIGINT/SIGTERM) tears everything down; a crash is swept at the next start.
import { cpSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildFabric, Harness } from '../field-tests/lib/index.ts';
import { parseStartArgs, USAGE, type StartOptions } from './start/args.ts';
import { banner } from './start/banner.ts';
import { StartError } from './start/errors.ts';
import { startDemoHub, type DemoHub } from './start/hub.ts';
import { HubApi } from './start/hub-api.ts';
import { rolloutDemoPolicy } from './start/policy.ts';
import { startSite, waitForHealth, type DemoSite } from './start/sites.ts';
import { clearRun, prepareStateDir, writeRun } from './start/state-dir.ts';
import { startTraffic } from './start/traffic.ts';
import { connectHostToWan } from './start/uplink.ts';
import { PODS_PER_SITE } from './start/workloads.ts';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

const NOT_ROOT = `Running the hub alone: demo sites need root (network namespaces, eBPF, WireGuard).
  For the hub plus three sites: sudo npm start   (or sudo npm start -- --sites N)`;

const say = (s: string) => process.stdout.write(`${s}\n`);

interface Running {
  hub: DemoHub;
  harness: Harness | null;
  stopTraffic: () => void;
}

async function startDemo(o: StartOptions, stopping: () => boolean): Promise<Running> {
  prepareStateDir(o.dataDir);
  const root = process.getuid?.() === 0;
  if (!root) {
    const hub = await startDemoHub(o, null);
    say(banner({ hub: hub.hub, repoRoot: REPO_ROOT, sites: [], noSitesReason: NOT_ROOT, logsDir: null }));
    return { hub, harness: null, stopTraffic: () => undefined };
  }
  // Our own Ctrl-C handler tears down in order; the harness still cleans up synchronously at exit.
  const h = await Harness.create({ cleanupOnSignals: false, kind: 'wst', keepLogs: true });
  let hub: DemoHub | null = null;
  try {
    const wgIfname = h.names.wgIfname('hub');
    writeRun(o.dataDir, { pid: process.pid, hubIfname: wgIfname });
    say(`building ${o.sites} site${o.sites > 1 ? 's' : ''} in network namespaces ${h.names.prefix}* ...`);
    const fabric = await buildFabric(h, { sites: o.sites, podsPerSite: PODS_PER_SITE, clients: 0, podNetwork: 'routed' });
    const uplink = await connectHostToWan(h, fabric);
    hub = await startDemoHub(o, { wanIp: uplink.wanIp, wgIfname });
    const api = new HubApi(hub.hub);
    say('starting the agents (enroll, tunnel, broker) ...');
    const sites: DemoSite[] = await Promise.all(fabric.sites.map((s) => startSite(h, hub!.hub, api, s)));
    if (stopping()) return { hub, harness: h, stopTraffic: () => undefined };
    say('pushing and rolling out the demo policy (audit mode) ...');
    const policyVersion = await rolloutDemoPolicy(api, REPO_ROOT);
    await Promise.all(sites.map((s) => waitForHealth(hub!.hub, s, ['online'])));
    const stopTraffic = startTraffic(h, sites);
    say(
      banner({
        hub: hub.hub,
        repoRoot: REPO_ROOT,
        sites,
        noSitesReason: null,
        policyVersion,
        logsDir: join(h.dir, 'logs'),
        keptLogsDir: join(o.dataDir, 'logs'),
      }),
    );
    return { hub, harness: h, stopTraffic };
  } catch (e) {
    await hub?.close().catch(() => undefined);
    await teardownHarness(o, h);
    throw e;
  }
}

/** Removes every namespace, link and process of the run, keeping the process logs in <data dir>/logs. */
async function teardownHarness(o: StartOptions, h: Harness): Promise<void> {
  await h.cleanup();
  // Harness created with keepLogs: the logs outlive the run's temp dir, until the next start.
  rmSync(join(o.dataDir, 'logs'), { recursive: true, force: true });
  renameOrCopy(join(h.dir, 'logs'), join(o.dataDir, 'logs'));
  rmSync(h.dir, { recursive: true, force: true });
}

function renameOrCopy(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch {
    cpSync(from, to, { recursive: true });
  }
}

async function stopDemo(o: StartOptions, r: Running): Promise<void> {
  r.stopTraffic();
  // Agents and everything in the namespaces first (they would reconnect to a closing hub), then the hub.
  if (r.harness) await teardownHarness(o, r.harness);
  await r.hub.close();
  clearRun(o.dataDir);
}

async function main(argv: string[]): Promise<number> {
  const o = parseStartArgs(argv, REPO_ROOT);
  if (o.help) {
    say(USAGE);
    return 0;
  }
  let signalled = false;
  let wake: () => void = () => undefined;
  const stopped = new Promise<void>((res) => {
    wake = res;
  });
  const onSignal = (sig: NodeJS.Signals) => {
    if (signalled) return;
    signalled = true;
    say(`\n${sig}: stopping the demo ...`);
    wake();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let running: Running;
  try {
    running = await startDemo(o, () => signalled);
  } catch (e) {
    // Ctrl-C while starting also stops the children (same process group): not a failure to report.
    if (!signalled) throw e;
    say('weft demo: interrupted while starting; everything it had created is removed');
    return 130;
  }
  await stopped;
  await stopDemo(o, running);
  say('weft demo: stopped, nothing left behind');
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof StartError) {
      process.stderr.write(`${e.format()}\n`);
      process.exit(e.exitCode);
    }
    process.stderr.write(`npm start: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
