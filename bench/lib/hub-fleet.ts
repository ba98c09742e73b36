// What bench/hub.ts (one hub) and bench/hub-cluster.ts (three replicas on a NATS cluster) share: the
// policy pushed, enrolling a fleet through the hub's enrollment code, the site processes
// (bench/hub-sites.ts) and one push timed until the rollout completed.
import { spawn, type ChildProcess } from 'node:child_process';
import { enroll, type Hub } from '../../hub/index.ts';
import { deviceKeys, enrollRequest } from '../../hub/testing/index.ts';
import type { SimReport, SimSite, StartMessage } from '../hub-sites.ts';

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

/**
 * n sites enrolled through the hub's enrollment code. The broker's authorization is synced once at the
 * end instead of per site (a file-fed broker would otherwise reload n times: that measures bulk
 * enrollment, not the push).
 */
export async function enrollFleet(hub: Hub, n: number): Promise<SimSite[]> {
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
  return sites;
}

export interface Sims {
  children: ChildProcess[];
  connected: number;
  failed: number;
  connectMs: number;
  firstError: string | null;
  rejected: number;
}

/** Site processes; the shell raises the fd limit first (each site holds one socket). */
export async function spawnSims(url: string, sites: SimSite[], keys: StartMessage['keys'], processes: number): Promise<Sims> {
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

export async function stopSims(s: Sims): Promise<void> {
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

export interface PushTiming {
  /** Validating and storing the policy version. */
  versionMs: number;
  /** RolloutEngine.create: plan, then record, sign and publish every site's bundle (QoS 1, PUBACKed). */
  publishMs: number;
  /** From the start of the push until the engine marked the rollout completed. */
  totalMs: number;
  /** CPU time of the hub process (hub and, for aedes, the broker) over the push: steadier than wall clock on a shared machine. */
  cpuMs: number;
}

/** One policy change through the hub; null if the rollout did not complete in time. afterCreate runs once the rollout exists (the failover run kills the leader there). */
export async function push(hub: Hub, n: number, afterCreate?: () => void): Promise<PushTiming | null> {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const v = await hub.services.policies.push([{ name: 'bench.yaml', content: policyYaml(n) }], `bench push ${n}`, 'bench');
  const t1 = performance.now();
  const r = await hub.services.rollouts.create(
    { policyVersion: v.version, selector: { matchLabels: {} }, stages: [{ name: 'all', percent: 100 }], auditWindowS: 0 },
    'bench',
  );
  const t2 = performance.now();
  afterCreate?.();
  const deadline = t0 + 120_000;
  for (;;) {
    const state = (await hub.store.rollouts.get(r.id))!.state;
    if (state === 'completed') break;
    if (state !== 'running' || performance.now() > deadline) return null;
    await new Promise((res) => setTimeout(res, 2));
  }
  const cpu = process.cpuUsage(cpu0);
  return { versionMs: t1 - t0, publishMs: t2 - t1, totalMs: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 };
}
