import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPublicKey, type KeyObject } from 'node:crypto';
import mqtt from 'mqtt';
import type { Datapath } from '../datapath/index.ts';
import { DatapathError, MemoryDatapath } from '../datapath/index.ts';
import { keyIdOf, signKeySet } from '../policy/index.ts';
import { openStore } from '../offline-store/index.ts';
import { decode, encode, topics, type AckMessage, type SigningKeysMessage, type VerdictRecord } from '../protocol/index.ts';
import { loadConfig, type AgentConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { createMetrics } from './metrics.ts';
import type { TunnelComponent } from './network.ts';
import { runAgent, type Agent, type RunDeps } from './run.ts';
import { startBroker, type TestBroker } from './testing/broker.ts';
import { bundle, enrollStore, fakeVeths, FakeKube, hubKey, kubePod, shopSnapshot, SITE, treeBundles } from './testing/fixtures.ts';
import { waitFor } from '../base/index.ts';

const log = createLogger({ level: process.env.RUN_DEBUG ? 'debug' : 'silent' });
let dir: string;
let broker: TestBroker;
let key: KeyObject;
const agents: Agent[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'weft-run-'));
  broker = await startBroker();
  key = hubKey();
});
afterEach(async () => {
  for (const a of agents.splice(0)) await a.stop();
  await broker.close();
  rmSync(dir, { recursive: true, force: true });
});

const flags = () => ({ dataDir: dir, statusPort: 0, datapath: 'memory', tunnel: 'off', nodeName: 'node-1', provisionFile: join(dir, 'none.json') });

function config(): AgentConfig {
  return loadConfig({ flags: flags(), env: {} });
}

async function start(over: Partial<RunDeps> = {}, cfg = config()): Promise<Agent> {
  const a = await runAgent(cfg, {
    log,
    datapath: { kind: 'memory', datapath: new MemoryDatapath() },
    resolveVeth: fakeVeths,
    metrics: createMetrics({ defaults: false }),
    ...over,
  });
  agents.push(a);
  return a;
}

function enroll(url = broker.url): void {
  const s = openStore(join(dir, 'agent.db'));
  enrollStore(s, key, url);
  s.close();
}

async function publishBundle(bytes: Buffer): Promise<void> {
  const hub = await mqtt.connectAsync(broker.url);
  await hub.publishAsync(topics.bundle(SITE), bytes, { qos: 1, retain: true });
  await hub.endAsync();
}

const acks = (): AckMessage[] => broker.published.filter((p) => p.topic === topics.ack(SITE)).map((p) => decode('ack', p.payload as Buffer));

function http(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('agent run', () => {
  it('applies a hub bundle, acks it, serves status, readyz and metrics', async () => {
    enroll();
    const kube = new FakeKube(shopSnapshot());
    const a = await start({ kube: () => kube });
    expect((await http(a.statusPort, '/readyz')).status).toBe(503);
    await publishBundle(bundle(key, 3));
    await waitFor(() => acks().length === 1, { timeoutMs: 10_000, what: 'ack' });
    expect(acks()[0]).toMatchObject({ generation: 3, result: 'applied' });
    await a.enforcer!.idle();
    const s = await a.status();
    expect(s).toMatchObject({
      enforcing: true,
      siteId: SITE,
      state: 'enforcing generation 3',
      datapath: { kind: 'memory', appliedGeneration: 3 },
      pods: { attached: 3 },
    });
    expect((await http(a.statusPort, '/readyz')).status).toBe(200);
    const metrics = (await http(a.statusPort, '/metrics')).body;
    expect(metrics).toMatch(/^weft_agent_applied_generation 3$/m);
    expect(metrics).toMatch(/^weft_agent_apply_seconds_count [1-9]/m);
    expect(metrics).toMatch(/^weft_agent_link_state\{state="connected"\} 1$/m);
    expect((await http(a.statusPort, '/')).body).toContain('enforcing generation 3');
  });

  it('rejects forged, replayed, older and wrong-site bundles with codes, and applies nothing of them', async () => {
    enroll();
    const a = await start({ kube: () => new FakeKube(shopSnapshot()) });
    await publishBundle(bundle(key, 5));
    await waitFor(() => acks().length === 1, { timeoutMs: 10_000, what: 'first ack' });
    const good = a.store!.bundles.lastKnownGood()!;
    const forged = JSON.parse(bundle(key, 6).toString()) as { payload: string };
    forged.payload = forged.payload.replace('"generation":6', '"generation":60');
    const cases: [Buffer, string][] = [
      [Buffer.from(JSON.stringify(forged)), 'BUNDLE_BAD_SIGNATURE'],
      [bundle(hubKey(), 7), 'BUNDLE_UNKNOWN_KEY'],
      [bundle(key, 4), 'BUNDLE_STALE_GENERATION'],
      [bundle(key, 5, { policies: [] }), 'BUNDLE_STALE_GENERATION'], // a replayed generation with other content
      [bundle(key, 8, { siteId: 'store-999' }), 'BUNDLE_WRONG_SITE'],
      [Buffer.from('not json'), 'BUNDLE_MALFORMED'],
      [bundle(key, 9, { policies: [{ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'x' } }] }), 'POLICY_'],
    ];
    for (const [bytes, code] of cases) {
      const n = acks().length;
      await publishBundle(bytes);
      await waitFor(() => acks().length === n + 1, { timeoutMs: 10_000, what: `ack for ${code}` });
      const ack = acks()[n];
      expect(ack.result).toBe('rejected');
      expect(ack.code?.startsWith(code)).toBe(true);
      expect(await a.selected!.datapath.appliedGeneration()).toBe(5);
      expect(a.store!.bundles.lastKnownGood()!.id).toBe(good.id);
    }
    const s = await a.status();
    expect(s.lastRejection?.code).toMatch(/^POLICY_/);
    expect(s.state).toBe('enforcing generation 5');
  });

  it("applies its own bundle of a stage signed once for many sites, and refuses another site's or a forged one", async () => {
    enroll();
    const a = await start({ kube: () => new FakeKube(shopSnapshot()) });
    const [mine, other] = treeBundles(key, [
      { siteId: SITE, generation: 4 },
      { siteId: 'store-999', generation: 9 },
    ]);
    const forged = JSON.parse(other.toString()) as { site: { siteId: string } };
    forged.site.siteId = SITE;
    for (const [bytes, code] of [
      [other, 'BUNDLE_WRONG_SITE'],
      [Buffer.from(JSON.stringify(forged)), 'BUNDLE_BAD_SIGNATURE'],
    ] as const) {
      const n = acks().length;
      await publishBundle(bytes);
      await waitFor(() => acks().length === n + 1, { timeoutMs: 10_000, what: `ack for ${code}` });
      expect(acks()[n]).toMatchObject({ result: 'rejected', code });
    }
    await publishBundle(mine);
    await waitFor(() => acks().length === 3, { timeoutMs: 10_000, what: 'ack of its own bundle' });
    expect(acks()[2]).toMatchObject({ generation: 4, result: 'applied' });
    expect(await a.selected!.datapath.appliedGeneration()).toBe(4);
  });

  it('restarts offline to enforcing from the last-known-good: adopts pinned state, or re-applies', async () => {
    enroll();
    // The kernel's pinned maps outlive the agent: closing the datapath must not lose them.
    const pinned = pinnedMemory();
    const a = await start({ datapath: { kind: 'memory', datapath: pinned }, kube: () => new FakeKube(shopSnapshot()) });
    await publishBundle(bundle(key, 2));
    await waitFor(() => acks().length === 1, { timeoutMs: 10_000, what: 'ack' });
    await a.enforcer!.idle();
    await agents.pop()!.stop();
    await broker.close();
    broker = await startBroker(); // a fresh broker the stored enrollment does not point at
    // Hub unreachable: the stored broker URL now refuses connections.
    const b = await start({ datapath: { kind: 'memory', datapath: pinned } });
    expect(b.restored).toEqual({ kind: 'adopted', generation: 2 });
    expect((await b.status()).enforcing).toBe(true);
    expect(b.enforcer!.attached).toHaveLength(3); // pods re-attached from the persisted inventory
    await agents.pop()!.stop();
    const c = await start(); // a fresh datapath (the "kernel" lost its maps): apply the LKG again
    expect(c.restored).toEqual({ kind: 'applied', generation: 2 });
    expect(await c.selected!.datapath.appliedGeneration()).toBe(2);
    expect((await c.status()).datapath.timeToEnforcingS).toBeGreaterThan(0);
  });

  it('recompiles on inventory change, attaches new pods and detaches gone ones; flows name the deciding policy', async () => {
    enroll();
    const kube = new FakeKube(shopSnapshot());
    const dp = new MemoryDatapath();
    const a = await start({ datapath: { kind: 'memory', datapath: dp }, kube: () => kube });
    await publishBundle(bundle(key, 1));
    await waitFor(() => acks().length === 1, { timeoutMs: 10_000, what: 'ack' });
    await a.enforcer!.idle();
    kube.set(shopSnapshot([kubePod('shop', 'web-2', 'web', '10.42.0.9')]));
    await waitFor(() => a.enforcer!.attached.length === 4, { timeoutMs: 5000, what: 'attach' });
    await a.enforcer!.idle();
    // The new web pod may reach the db: the tables were recompiled with it.
    expect(dp.judge('shop/db', 'ingress', { proto: 6, src: '10.42.0.9', dst: '10.42.0.2', sport: 40000, dport: 5432 }).pass).toBe(true);
    const s = shopSnapshot();
    s.pods = s.pods.filter((p) => p.name !== 'mon');
    kube.set(s);
    await waitFor(() => a.enforcer!.attached.length === 2, { timeoutMs: 5000, what: 'detach' });

    const lines: VerdictRecord[] = [];
    const req = get({ host: '127.0.0.1', port: a.statusPort, path: '/flows?follow=1&verdict=deny' }, (res) => {
      res.on('data', (c: Buffer) =>
        String(c)
          .split('\n')
          .filter(Boolean)
          .forEach((l) => lines.push(JSON.parse(l) as VerdictRecord)),
      );
    });
    try {
      await new Promise((r) => setTimeout(r, 100));
      dp.judge('shop/db', 'ingress', { proto: 6, src: '10.42.0.1', dst: '10.42.0.2', sport: 40001, dport: 22 });
      await waitFor(() => lines.length === 1, { timeoutMs: 5000, what: 'deny flow' });
      expect(lines[0]).toMatchObject({ verdict: 'deny', endpoint: 'shop/db', direction: 'ingress', dport: 22 });
      expect(lines[0].policy).toMatchObject({ kind: 'NetworkPolicy', namespace: 'shop', name: 'db-from-web' });
    } finally {
      req.destroy();
    }
    expect((await http(a.statusPort, '/metrics')).body).toMatch(/weft_agent_drops_total\{policy="NetworkPolicy:shop\/db-from-web"\} 1/);
  });

  it('disk full: a new bundle is rejected with a clear code and the old generation keeps enforcing', async () => {
    enroll();
    await start({ kube: () => new FakeKube(shopSnapshot()) });
    await publishBundle(bundle(key, 1));
    await waitFor(() => acks().length === 1, { timeoutMs: 10_000, what: 'ack' });
    await agents.pop()!.stop();
    // Reopen with the file capped at its current size: every growing write hits SQLITE_FULL.
    const probe = openStore(join(dir, 'agent.db'));
    const pages = (probe as unknown as { db?: { pragma(s: string, o: object): number } }).db?.pragma('page_count', { simple: true });
    probe.close();
    const b = await start({ kube: () => new FakeKube(shopSnapshot()), storeOptions: { maxPageCount: pages ?? 1 } });
    expect(b.restored?.kind).toBe('applied');
    const big = bundle(key, 2, {
      policies: Array.from({ length: 60 }, (_, i) => ({
        ...JSON.parse(JSON.stringify(bundleFiller)),
        metadata: { namespace: 'shop', name: `p${i}`, annotations: { 'example.com/note': 'x'.repeat(2000) } },
      })),
    });
    const rejectedBefore = b.metrics.bundlesRejected;
    await publishBundle(big);
    await waitFor(() => b.intake?.lastRejection !== null && b.intake?.lastRejection !== undefined, { timeoutMs: 10_000, what: 'rejection' });
    expect(b.intake!.lastRejection!.code).toBe('STORE_DISK_FULL');
    expect(rejectedBefore).toBeDefined();
    expect(await b.selected!.datapath.appliedGeneration()).toBe(1);
    expect((await b.status()).enforcing).toBe(true);
  });

  it('read-only store: starts enforcing the last-known-good, rejects new bundles with STORE_READ_ONLY', async () => {
    enroll();
    const a = await start();
    const hub = await mqtt.connectAsync(broker.url);
    await hub.publishAsync(topics.bundle(SITE), bundle(key, 4), { qos: 1, retain: true });
    await hub.endAsync();
    await waitFor(() => a.enforcer!.appliedGeneration === 4, { timeoutMs: 10_000, what: 'applied' });
    await agents.pop()!.stop();
    const b = await start({ storeOptions: { readonly: true } });
    expect(b.restored).toEqual({ kind: 'applied', generation: 4 });
    await publishBundle(bundle(key, 5));
    await waitFor(() => b.intake?.lastRejection, { timeoutMs: 10_000, what: 'rejection' });
    expect(b.intake!.lastRejection!.code).toBe('STORE_READ_ONLY');
    expect(b.enforcer!.appliedGeneration).toBe(4);
    expect((await b.status()).store?.writable).toBe(false);
  });
});

describe('agent start order', () => {
  it('enforces the last-known-good before the tunnel, MQTT and k3s are touched; logs and exports the time', async () => {
    enroll();
    const pinned = pinnedMemory();
    const first = await start({ datapath: { kind: 'memory', datapath: pinned } });
    await publishBundle(bundle(key, 2));
    await waitFor(() => acks().length === 1, { timeoutMs: 10_000, what: 'ack' });
    await agents.pop()!.stop();

    const beatsBefore = broker.published.filter((p) => p.topic === topics.heartbeat(SITE)).length;
    // Every step records what the kernel held at that moment.
    const steps: string[] = [];
    const gen = async () => pinned.appliedGeneration();
    const logged = new Writable({
      write(chunk, _e, cb) {
        const m = (JSON.parse(String(chunk)) as { msg: string }).msg;
        if (m === 'enforcing') steps.push('log:enforcing');
        cb();
      },
    });
    const auth = broker.aedes.authenticate;
    broker.aedes.authenticate = (c, u, p, cb) => {
      steps.push('mqtt');
      auth(c, u, p, cb);
    };
    const tunnel: TunnelComponent = {
      up: async () => void steps.push(`tunnel:gen=${await gen()}`),
      status: async () => ({ up: true, handshakeAgeS: 4 }),
      down: async () => undefined,
    };
    const b = await start({
      datapath: { kind: 'memory', datapath: pinned },
      log: createLogger({ level: 'info', destination: logged as never }),
      tunnel,
      kube: () => {
        steps.push('k3s');
        return new FakeKube(shopSnapshot());
      },
    });
    await waitFor(() => steps.includes('k3s') && steps.includes('mqtt'), { timeoutMs: 10_000, what: 'network parts' });
    expect(first).not.toBe(b);
    // Enforcing first; the tunnel before MQTT (the broker is reached through it). k3s starts right after the MQTT
    // connect is begun, without waiting for it: a site cut off from the hub still follows its pods.
    expect(steps[0]).toBe('log:enforcing');
    expect(steps.slice(1, 2)).toEqual(['tunnel:gen=2']);
    expect(steps.slice(2).sort()).toEqual(['k3s', 'mqtt']);
    expect(b.restored).toEqual({ kind: 'adopted', generation: 2 });
    const metrics = (await http(b.statusPort, '/metrics')).body;
    expect(Number(/^weft_agent_time_to_enforcing_seconds (\S+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);

    // The heartbeat: readiness and its checks, load, generation, pods, link stats and the tunnel's handshake.
    const beats = () => broker.published.filter((p) => p.topic === topics.heartbeat(SITE));
    await waitFor(() => beats().length > beatsBefore, { timeoutMs: 10_000, what: 'heartbeat' });
    const hb = decode('heartbeat', beats().at(-1)!.payload as Buffer);
    expect(hb).toMatchObject({ enforcing: true, appliedGeneration: 2, link: { reconnects: 0, outboxLost: 0 } });
    expect(hb.checks.map((c) => [c.name, c.ok])).toEqual([
      ['datapath', false],
      ['store', true],
      ['k3s', true],
      ['tunnel', true],
    ]);
    expect(hb.tunnel).toEqual({ handshakeAgeS: 4 });
    expect(hb.nodeReady).toBe(false); // the in-memory datapath filters no packets: not ready
    expect(hb.load).toBeGreaterThanOrEqual(0);
    expect(hb.load).toBeLessThanOrEqual(1);
  });

  /** An enrolled agent that applied generation 6 into a datapath that outlives it (pinned), then stopped. */
  async function enforceSixThenStop() {
    enroll();
    const pinned = pinnedMemory();
    await start({ datapath: { kind: 'memory', datapath: pinned } });
    await publishBundle(bundle(key, 6));
    await waitFor(() => acks().length === 1, { timeoutMs: 10_000, what: 'ack' });
    await agents.pop()!.stop();
    return pinned;
  }

  it('a corrupt store is moved aside and the agent keeps enforcing the generation pinned in the kernel', async () => {
    const pinned = await enforceSixThenStop();
    writeFileSync(join(dir, 'agent.db'), 'this is not sqlite '.repeat(500));
    rmSync(join(dir, 'agent.db-wal'), { force: true });
    const b = await start({ datapath: { kind: 'memory', datapath: pinned } });
    expect(b.restored).toEqual({ kind: 'pinned-only', generation: 6 });
    const s = await b.status();
    expect(s).toMatchObject({ enforcing: true, enrolled: false, datapath: { appliedGeneration: 6 }, store: { opened: 'recovered', writable: true } });
    expect(await pinned.appliedGeneration()).toBe(6);
  });

  it('a store that cannot be opened at all says so on the state line: not enforcing, or the pinned generation only', async () => {
    const pinned = await enforceSixThenStop();
    // A directory where the database should be: neither read-write nor read-only open can work.
    for (const f of ['agent.db', 'agent.db-wal', 'agent.db-shm']) rmSync(join(dir, f), { force: true });
    mkdirSync(join(dir, 'agent.db'));
    const b = await start({ datapath: { kind: 'memory', datapath: pinned } });
    expect(b.store).toBeNull();
    expect(b.state.line).toMatch(
      new RegExp(
        `^enforcing generation 6 from the pinned kernel state only, not from the store: cannot open ${join(dir, 'agent.db')}: .*\\(STORE_IO\\); fix: `,
      ),
    );
    expect(readFileSync(b.config.stateFile, 'utf8')).toBe(`${b.state.line}\n`);
    expect(await b.status()).toMatchObject({ state: b.state.line, enforcing: true, datapath: { appliedGeneration: 6 }, store: null });
    await agents.pop()!.stop();

    // Nothing pinned either (first boot on a broken disk): plainly not enforcing, never a silent `starting`.
    const c = await start();
    expect(c.state.line).toMatch(new RegExp(`^not enforcing: cannot open the store ${join(dir, 'agent.db')}: .*\\(STORE_IO\\)`));
    expect(await c.status()).toMatchObject({ state: c.state.line, enforcing: false });
  });
});

/** A memory datapath whose close() keeps its state, the way pinned kernel maps outlive the agent. */
describe('injected clock', () => {
  it('enforcing since and time to enforcing come from the clock in RunDeps', async () => {
    enroll();
    const pinned = pinnedMemory();
    await start({ datapath: { kind: 'memory', datapath: pinned } });
    await publishBundle(bundle(key, 2));
    await waitFor(() => acks().length === 1, { timeoutMs: 10_000, what: 'ack' });
    await agents.pop()!.stop();
    const at = Date.UTC(2030, 0, 2, 3, 4, 5);
    const b = await start({ datapath: { kind: 'memory', datapath: pinned }, clock: { now: () => at, uptimeS: () => 1.25 } });
    expect((await b.status()).datapath).toMatchObject({ enforcingSince: '2030-01-02T03:04:05.000Z', timeToEnforcingS: 1.25 });
    expect((await http(b.statusPort, '/metrics')).body).toMatch(/^weft_agent_time_to_enforcing_seconds 1\.25$/m);
  });
});

describe('fail closed: a kernel datapath that cannot load', () => {
  it('keeps the agent running and reporting, says not enforcing everywhere, holds the bundle, and enforces once a retry loads it', async () => {
    enroll();
    // The kernel loader fails as libbpf does on a corrupt object until the "machine is fixed".
    let fixed = false;
    const kernel = pinnedMemory();
    let loads = 0;
    const loadKernel = async (): Promise<Datapath> => {
      loads++;
      if (!fixed) throw new DatapathError('DATAPATH_LOAD', 'loading /x/pod_egress.o: libbpf: Invalid argument', 'reinstall the weft-agent binary');
      return kernel;
    };
    const a = await start({ datapath: undefined, loadKernel, datapathRetryMs: 100 }, loadConfig({ flags: { ...flags(), datapath: 'libbpf' }, env: {} }));
    expect(a.enforcer).toBeNull();
    const line =
      'not enforcing: kernel datapath unavailable: loading /x/pod_egress.o: libbpf: Invalid argument (DATAPATH_LOAD) (fix: reinstall the weft-agent binary); retrying';
    expect(a.state.line).toBe(line);
    expect(readFileSync(join(dir, 'state'), 'utf8').trim()).toBe(line);
    const ready = await http(a.statusPort, '/readyz');
    expect(ready).toEqual({ status: 503, body: `${line}\n` });
    expect((await a.status()).datapath).toMatchObject({
      kind: null,
      kernelEnforcing: false,
      notEnforcing: { code: 'DATAPATH_LOAD', reason: 'kernel datapath unavailable: loading /x/pod_egress.o: libbpf: Invalid argument' },
    });
    expect((await http(a.statusPort, '/metrics')).body).toMatch(/^weft_agent_kernel_enforcing 0$/m);

    // The link is up and the heartbeat tells the hub, with the code.
    const beats = () => broker.published.filter((p) => p.topic === topics.heartbeat(SITE)).map((p) => decode('heartbeat', p.payload as Buffer));
    await waitFor(() => beats().length > 0, { timeoutMs: 10_000, what: 'heartbeat' });
    expect(beats()[0]).toMatchObject({ kernelEnforcing: false, nodeReady: false, enforcing: false, notEnforcing: { code: 'DATAPATH_LOAD' } });

    // A bundle that arrives now is held, not acked and not rejected: nothing could enforce it.
    await publishBundle(bundle(key, 4));
    await waitFor(() => loads >= 3, { timeoutMs: 10_000, what: 'retries' });
    expect(acks()).toEqual([]);
    expect(a.store!.bundles.lastRejected()).toBeFalsy();

    // The machine is fixed: the next retry loads the kernel datapath, takes the held bundle in, and enforces without a restart.
    fixed = true;
    await waitFor(() => acks().length === 1, { timeoutMs: 10_000, what: 'ack after recovery' });
    expect(acks()[0]).toMatchObject({ generation: 4, result: 'applied' });
    await waitFor(() => a.state.line === 'enforcing generation 4', { timeoutMs: 10_000, what: 'enforcing line' });
    expect(await kernel.appliedGeneration()).toBe(4);
    expect((await http(a.statusPort, '/readyz')).status).toBe(200);
    expect((await a.status()).datapath).toMatchObject({ kind: 'libbpf', kernelEnforcing: true, notEnforcing: null });
    const n = beats().length;
    await waitFor(() => beats().length > n, { timeoutMs: 10_000, what: 'heartbeat after recovery' });
    expect(beats().at(-1)).toMatchObject({ kernelEnforcing: true, enforcing: true, appliedGeneration: 4 });
    expect(beats().at(-1)).not.toHaveProperty('notEnforcing');
  });

  it('not provisioned and not enforcing: not enforcing outranks the missing file, until the datapath loads', async () => {
    let fixed = false;
    const loadKernel = async (): Promise<Datapath> => {
      if (!fixed) throw new DatapathError('DATAPATH_KERNEL_FEATURE', 'no BTF', 'a kernel with CONFIG_DEBUG_INFO_BTF');
      return new MemoryDatapath();
    };
    const a = await start({ datapath: undefined, loadKernel, datapathRetryMs: 100 }, loadConfig({ flags: { ...flags(), datapath: 'libbpf' }, env: {} }));
    // The network start has already decided (no enrollment, no file) by the time runAgent resolves.
    expect(a.state.line).toMatch(/^not enforcing: kernel datapath unavailable: no BTF \(DATAPATH_KERNEL_FEATURE\)/);
    fixed = true;
    await waitFor(() => a.selected !== null, { timeoutMs: 10_000, what: 'datapath loaded' });
    expect(a.state.line).toBe(`not enrolled: no provisioning file at ${join(dir, 'none.json')}`);
  });

  it('never falls back to the in-memory datapath: only the config naming it gives one, and the hub hears it filters nothing', async () => {
    enroll();
    const a = await start(
      { datapath: undefined, loadKernel: async () => new MemoryDatapath() },
      loadConfig({ flags: { ...flags(), datapath: 'memory' }, env: {} }),
    );
    expect(a.selected?.kind).toBe('memory');
    const beats = () => broker.published.filter((p) => p.topic === topics.heartbeat(SITE)).map((p) => decode('heartbeat', p.payload as Buffer));
    await waitFor(() => beats().length > 0, { timeoutMs: 10_000, what: 'heartbeat' });
    expect(beats()[0]).toMatchObject({ kernelEnforcing: false, notEnforcing: { code: 'DATAPATH_MEMORY' } });
  });
});

function pinnedMemory(): Datapath {
  const mem = new MemoryDatapath();
  return {
    apply: (t, g) => mem.apply(t, g),
    appliedGeneration: () => mem.appliedGeneration(),
    attach: (e) => mem.attach(e),
    detach: (e) => mem.detach(e),
    events: () => mem.events(),
    counters: () => mem.counters(),
    close: async () => undefined,
  };
}

const bundleFiller = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  spec: {
    podSelector: { matchLabels: { app: 'db' } },
    policyTypes: ['Ingress'],
    ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ protocol: 'TCP', port: 5432 }] }],
  },
};

describe('hub signing keys (issue 15.2)', () => {
  const listed = (k: KeyObject) => {
    const pub = createPublicKey(k);
    return { keyId: keyIdOf(pub), publicKey: pub.export({ format: 'der', type: 'spki' }).toString('base64') };
  };
  /** A keys message as the hub sends it: the plain list, and the set signed by `signer`. */
  const keysMessage = (signer: KeyObject, version: number, keys: KeyObject[]): Buffer => {
    const list = keys.map(listed);
    const msg: SigningKeysMessage = { v: 1, keys: list, set: signKeySet({ version, issuedAt: '2026-11-25T12:00:00Z', keys: list }, signer) };
    return encode('keys', msg);
  };
  async function publishKeys(payload: Buffer): Promise<void> {
    const hub = await mqtt.connectAsync(broker.url);
    await hub.publishAsync(topics.signingKeys, payload, { qos: 1, retain: true });
    await hub.endAsync();
  }
  const trusted = (a: Agent) =>
    a
      .store!.identity.enrollment()!
      .signingKeys.map((k) => k.keyId)
      .sort();
  const lastAck = () => acks().at(-1);

  it('one unsigned or foreign-signed keys message does not replace the trust root', async () => {
    enroll();
    const a = await start({ kube: () => new FakeKube(shopSnapshot()) });
    await publishBundle(bundle(key, 1));
    await waitFor(() => acks().length === 1, { timeoutMs: 10_000, what: 'first ack' });
    const attacker = hubKey();
    // Unsigned (what every hub sent before), then signed by the attacker's own key.
    await publishKeys(encode('keys', { v: 1, keys: [listed(attacker)] }));
    await publishKeys(keysMessage(attacker, 1_000_000, [attacker]));
    await publishBundle(bundle(attacker, 99));
    await waitFor(() => acks().length === 2, { timeoutMs: 10_000, what: 'ack of the forged bundle' });
    expect(lastAck()).toMatchObject({ generation: 99, result: 'rejected', code: 'BUNDLE_UNKNOWN_KEY' });
    expect(trusted(a)).toEqual([listed(key).keyId]);
    // The real hub's next bundle is still accepted.
    await publishBundle(bundle(key, 2));
    await waitFor(() => acks().length === 3, { timeoutMs: 10_000, what: 'ack of generation 2' });
    expect(lastAck()).toMatchObject({ generation: 2, result: 'applied' });
  });

  it('rotates by a signed, newer set; retries a bundle that came before its key; drops a revoked key in one push', async () => {
    enroll();
    const a = await start({ kube: () => new FakeKube(shopSnapshot()) });
    const next = hubKey();
    const standby = hubKey();
    // A bundle signed by a key the agent learns only a moment later: refused, then applied when the set arrives.
    await publishBundle(bundle(next, 3));
    await waitFor(() => acks().length === 1, { timeoutMs: 10_000, what: 'unknown-key ack' });
    expect(lastAck()).toMatchObject({ result: 'rejected', code: 'BUNDLE_UNKNOWN_KEY' });
    const v2 = keysMessage(key, 2, [key, next, standby]);
    await publishKeys(v2);
    await waitFor(() => acks().length === 2, { timeoutMs: 10_000, what: 'the retried bundle' });
    expect(lastAck()).toMatchObject({ generation: 3, result: 'applied' });
    expect(trusted(a)).toEqual([key, next, standby].map((k) => listed(k).keyId).sort());

    // Emergency revocation of `key`: a set without it, signed by the standby, version 3.
    await publishKeys(keysMessage(standby, 3, [next, standby]));
    await waitFor(() => trusted(a).length === 2, { timeoutMs: 10_000, what: 'revocation' });
    await publishBundle(bundle(key, 4));
    await waitFor(() => acks().length === 3, { timeoutMs: 10_000, what: 'ack of the revoked key bundle' });
    expect(lastAck()).toMatchObject({ generation: 4, result: 'rejected', code: 'BUNDLE_UNKNOWN_KEY' });
    // Replaying the older set (signed by a key still trusted) does not bring the revoked key back.
    await publishKeys(v2);
    await publishBundle(bundle(next, 5));
    await waitFor(() => acks().length === 4, { timeoutMs: 10_000, what: 'ack of generation 5' });
    expect(lastAck()).toMatchObject({ generation: 5, result: 'applied' });
    expect(trusted(a)).toEqual([next, standby].map((k) => listed(k).keyId).sort());
  });
});
