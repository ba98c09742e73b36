// A real three-node nats-server cluster (JetStream, MQTT listeners, loopback ports picked free, temp
// dirs) run by two "hubs" the way replicas would: hub A supervises nodes 1 and 2, hub B node 3, both
// fed from the same site credentials. Probed with mosquitto_pub/mosquitto_sub (the ACL table the
// Mosquitto broker passes) and mqtt.js sites: retained bundles and last wills across nodes and a kill -9,
// revocation on every node within a second, permission violations counted, the read-only router user.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../protocol/index.ts';
import { issueDerivedCredential } from './nats-credentials.ts';
import { findNatsServer, localClusterSpecs, startNats, type NatsBroker, type NatsStartOptions } from './nats.ts';
import { aclCases, cli, haveMosquittoClients } from './testing/acl-table.ts';
import { closed, connectSite, record, refusalCode, testSites, waitFor, type TestSites } from './testing/sites.ts';

const haveBinaries = findNatsServer() !== null && haveMosquittoClients;
if (!haveBinaries) console.warn('skipping NATS tests: nats-server or mosquitto-clients not installed');

describe.skipIf(!haveBinaries)('a NATS cluster fed by the hub', () => {
  let dir: string;
  let a: NatsBroker;
  let b: NatsBroker;
  let sites: TestSites;
  let hub: MqttClient;
  const registry = new Registry();
  const key = randomBytes(32);
  const url = (i: number) => [...a.nodes(), ...b.nodes()][i].url;
  const port = (i: number) => Number(new URL(url(i)).port);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'weft-nats-'));
    sites = testSites(['alpha', 'bravo', 'charlie', 'delta', 'echo', 'router-probe'], (id) => issueDerivedCredential(key, id));
    const specs = await localClusterSpecs(3, 'wn');
    const common = (): Omit<NatsStartOptions, 'dir' | 'nodes'> => ({
      key,
      credentials: () => sites.credentials(),
      revokedSites: () => [...sites.revoked].map((siteId) => ({ siteId, username: sites.sites.get(siteId)!.username })),
      logger: process.env.WEFT_NATS_TEST_LOG ? pino({ level: 'debug' }, pino.destination(process.env.WEFT_NATS_TEST_LOG)) : undefined,
      // Long enough that a node killed in a test stays dead while the test looks at the others.
      restartDelayMs: 5000,
    });
    // Node 3 must come up alongside: JetStream needs a majority before any node is ready.
    [a, b] = await Promise.all([
      startNats({ ...common(), dir: join(dir, 'a'), nodes: specs.slice(0, 2), registry }),
      startNats({ ...common(), dir: join(dir, 'b'), nodes: specs.slice(2) }),
    ]);
    hub = await a.hubClient();
  }, 90_000);
  afterAll(async () => {
    await hub?.endAsync(true);
    await Promise.all([a?.close(), b?.close()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('the ACL table of the Mosquitto broker, against node 1', () => {
    aclCases(() => ({ port: port(0), sites, hub, sync: () => a.sync(), kick: (id) => a.kick(id) }));

    it('counts the refused publishes and subscriptions (MQTT 3.1.1 cannot refuse a publish)', async () => {
      await waitFor(() => a.violations() >= 4, 'violations logged by node 1');
      const text = await registry.metrics();
      expect(text).toMatch(/weft_broker_permission_violations_total\{kind="publish",node="wn1"\} [1-9]/);
      expect(text).toMatch(/weft_broker_permission_violations_total\{kind="subscribe",node="wn1"\} [1-9]/);
    });
  });

  it('never lets a site publish on $MQTT subjects (forging any topic through $MQTT/msgs)', async () => {
    const { got } = await record(hub, ['weft/v1/site/#']);
    const c = sites.sites.get('charlie')!;
    cli('mosquitto_pub', port(0), c, ['-t', '$MQTT/msgs/weft/v1/site/delta/status', '-m', 'forged']);
    cli('mosquitto_pub', port(0), c, ['-t', '$MQTT/msgs/weft.v1.site.delta.status', '-m', 'forged']);
    expect(cli('mosquitto_pub', port(0), c, ['-t', topics.heartbeat('charlie'), '-m', 'own']).status).toBe(0);
    await waitFor(() => got.some((m) => m.payload === 'own'), 'own heartbeat');
    expect(got.filter((m) => m.payload === 'forged')).toEqual([]);
  });

  it('delivers a retained bundle published through node 1 to a site reconnecting through node 2 after node 1 is killed -9', async () => {
    const c = sites.sites.get('charlie')!;
    const pub = await connectAsync(url(0), { clientId: `_weft_hub.k9.${Date.now()}`, ...a.hubCredentials, protocolVersion: 4, reconnectPeriod: 0 });
    await pub.publishAsync(topics.bundle('charlie'), 'gen-7', { qos: 1, retain: true });
    await pub.endAsync(true);
    const node1 = a.nodes()[0].pid!;
    process.kill(node1, 'SIGKILL');
    const t0 = Date.now();
    let site: MqttClient | undefined;
    // Until the survivors have moved the MQTT streams' leaders, a CONNECT can fail: retry as an agent does.
    while (!site) {
      if (Date.now() - t0 > 30_000) throw new Error('node 2 never took the site');
      site = await connectSite(url(1), c, { connectTimeout: 3000 }).catch(() => undefined);
    }
    const { got } = await record(site, [topics.bundle('charlie')]);
    await waitFor(() => got.some((m) => m.payload === 'gen-7' && m.retain), 'the retained bundle through node 2');
    console.log(`site connected through node 2 ${Date.now() - t0} ms after node 1 was killed`);
    await site.endAsync(true);
    // Node 1 comes back (restartDelayMs) for the tests after this one.
    await waitFor(() => a.nodes()[0].pid !== node1, 'node 1 restarted', 20_000);
  }, 60_000);

  it("delivers a last will from a site on node 2 to the hub's subscriber on node 3", async () => {
    const watcher = await connectAsync(url(2), { clientId: `_weft_hub.will.${Date.now()}`, ...b.hubCredentials, protocolVersion: 4, reconnectPeriod: 0 });
    const { got } = await record(watcher, [topics.status('delta')]);
    const site = await connectSite(url(1), sites.sites.get('delta')!);
    await site.publishAsync(topics.status('delta'), '{"v":1,"state":"online"}', { qos: 1, retain: true });
    await waitFor(() => got.some((m) => m.payload.includes('online')), 'online through node 3');
    site.stream.destroy(); // the TCP session dies without a DISCONNECT: the will fires
    await waitFor(() => got.some((m) => m.payload.includes('offline')), 'the last will through node 3');
    await watcher.endAsync(true);
  });

  it('gives routers a read-only user: statuses and heartbeats, no bundles, no publishing', async () => {
    const r = await connectAsync(url(2), { clientId: `_weft_router.${Date.now()}`, ...b.routerCredentials, protocolVersion: 4, reconnectPeriod: 0 });
    const { granted, got } = await record(r, [topics.allSites('status'), topics.allSites('heartbeat'), topics.allSites('bundle')]);
    expect(granted).toEqual([1, 1, 128]);
    await r.publishAsync(topics.status('echo'), 'forged-by-router', { qos: 1, retain: true });
    const watcher = await connectAsync(url(2), { clientId: `_weft_hub.rw.${Date.now()}`, ...b.hubCredentials, protocolVersion: 4, reconnectPeriod: 0 });
    const { got: hubGot } = await record(watcher, [topics.status('echo')]);
    await hub.publishAsync(topics.heartbeat('echo'), 'hb', { qos: 0 });
    await waitFor(() => got.some((m) => m.payload === 'hb'), 'heartbeat to the router');
    await hub.publishAsync(topics.bundle('echo'), 'secret', { qos: 1 });
    await hub.publishAsync(topics.status('echo'), 'real', { qos: 1 });
    await waitFor(() => hubGot.some((m) => m.payload === 'real'), 'the real status');
    await waitFor(() => got.some((m) => m.payload === 'real'), 'the real status to the router');
    expect(hubGot.concat(got).filter((m) => m.payload === 'forged-by-router' || m.payload === 'secret')).toEqual([]);
    await Promise.all([r.endAsync(true), watcher.endAsync(true)]);
  });

  it("closes a revoked site's sessions on every node within 1 s, whichever hub revokes it", async () => {
    const e = sites.sites.get('echo')!;
    // One session per node (NATS binds no client id to a user, so the site can hold three).
    const subs = [0, 1, 2].map((i) =>
      spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port(i)), '-u', e.username, '-P', e.password, '-i', `echo.${i}`, '-t', topics.bundle('echo')], {
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    const closedAt = subs.map((s) => new Promise<number>((r) => s.once('exit', () => r(Date.now()))));
    try {
      const c = await connectSite(url(2), e, { clientId: 'echo' });
      await c.publishAsync(topics.status('echo'), 'online', { qos: 1, retain: true }); // a retained message by the user to revoke
      await new Promise((r) => setTimeout(r, 500)); // the three subscribers are connected
      expect(subs.every((s) => s.exitCode === null)).toBe(true);
      const t0 = Date.now();
      sites.revoked.add('echo');
      await a.kick('echo'); // hub A reloads nodes 1 and 2 and tells hub B, which reloads node 3
      await closed(c);
      const times = [...(await Promise.all(closedAt)), Date.now()].map((t) => t - t0);
      console.log(`revocation: sessions closed after ${times.join(', ')} ms (nodes 1, 2, 3, mqtt.js on 3)`);
      expect(Math.max(...times)).toBeLessThan(1000);
      for (const i of [0, 1, 2]) expect(await refusalCode(url(i), { clientId: 'echo', username: e.username, password: e.password })).toBe(5);
    } finally {
      for (const s of subs) s.kill('SIGKILL');
    }
  });
});
