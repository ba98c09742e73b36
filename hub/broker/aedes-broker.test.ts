// The embedded broker with real mqtt.js clients over TCP: authentication, the per-site ACL,
// retained bundles, last wills on kill -9, revocation, and garbage on the port.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tcpConnect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import type { MqttClient } from 'mqtt';
import { topics } from '../../protocol/index.ts';
import { startBroker } from './aedes-broker.ts';
import { closed, connectSite, record, refusalCode, testSites, waitFor, type TestSites } from './testing/sites.ts';
import type { Broker } from './types.ts';

const ONLINE = JSON.stringify({ v: 1, state: 'online' });

describe('embedded aedes broker', () => {
  let broker: Broker;
  let sites: TestSites;
  let hub: MqttClient;
  const registry = new Registry();
  const open: MqttClient[] = [];
  const site = (id: string) => sites.sites.get(id)!;
  const connect = async (id: string, extra = {}) => {
    const c = await connectSite(broker.url(), site(id), extra);
    open.push(c);
    return c;
  };

  beforeAll(async () => {
    sites = testSites(['alpha', 'bravo', 'charlie', 'delta', 'echo', 'golf']);
    broker = await startBroker({ hosts: ['127.0.0.1', '127.0.0.2'], port: 0, auth: sites.auth, registry });
    hub = await broker.hubClient();
  });
  afterAll(async () => {
    await Promise.all(open.map((c) => c.endAsync(true)));
    await broker?.close();
  });

  it('listens on every host on the same port', async () => {
    expect(broker.port).toBeGreaterThan(0);
    const c = await connectSite(broker.url('127.0.0.2'), site('golf'));
    expect(c.connected).toBe(true);
    await c.endAsync();
  });

  it('refuses a wrong password, an unknown user, no credentials and a forged hub login', async () => {
    const url = broker.url();
    expect(await refusalCode(url, { clientId: 'alpha', username: site('alpha').username, password: 'wrong' })).toBe(4);
    expect(await refusalCode(url, { clientId: 'nobody', username: 'site-nobody', password: 'x' })).toBe(4);
    expect(await refusalCode(url, { clientId: 'anon' })).toBe(4);
    expect(await refusalCode(url, { clientId: '_weft_hub.1.x', username: '_weft_hub', password: site('alpha').password })).toBe(4);
    expect(await registry.getSingleMetricAsString('weft_broker_refused_total')).toContain('reason="bad_credentials"} 4');
  });

  it('refuses a client id or last will that belongs to another site', async () => {
    const url = broker.url();
    const a = site('alpha');
    // Taking bravo's client id would end bravo's session and fire its will.
    expect(await refusalCode(url, { clientId: 'bravo', username: a.username, password: a.password })).toBe(5);
    expect(
      await refusalCode(url, {
        clientId: 'alpha',
        username: a.username,
        password: a.password,
        will: { topic: topics.status('bravo'), payload: Buffer.from('{}'), qos: 1, retain: true },
      }),
    ).toBe(5);
  });

  it("lets a site read its own retained bundle and broadcasts but never another site's bundle", async () => {
    await hub.publishAsync(topics.bundle('alpha'), 'bundle-for-alpha', { qos: 1, retain: true });
    await hub.publishAsync(topics.bundle('bravo'), 'bundle-for-bravo', { qos: 1, retain: true });
    await hub.publishAsync(topics.signingKeys, 'keys', { qos: 1, retain: true });
    const alpha = await connect('alpha');
    const { granted, got } = await record(alpha, [
      topics.bundle('alpha'),
      topics.broadcastAll,
      topics.bundle('bravo'),
      'weft/v1/site/+/bundle',
      '#',
      'weft/v1/#',
      'weft/v1/site/bravo/#',
      '$SYS/#',
    ]);
    expect(granted).toEqual([1, 1, 128, 128, 128, 128, 128, 128]);
    await waitFor(() => got.length >= 2, 'retained bundle and keys');
    // A live publish to bravo's bundle after alpha subscribed: still never reaches alpha.
    await hub.publishAsync(topics.bundle('bravo'), 'bundle-for-bravo-2', { qos: 1, retain: true });
    await hub.publishAsync(topics.bundle('alpha'), 'bundle-for-alpha-2', { qos: 1, retain: true });
    await waitFor(() => got.some((m) => m.payload === 'bundle-for-alpha-2'), 'second alpha bundle');
    expect(got.map((m) => m.payload).sort()).toEqual(['bundle-for-alpha', 'bundle-for-alpha-2', 'keys']);
    expect(got.find((m) => m.payload === 'bundle-for-alpha')?.retain).toBe(true);
  });

  it("drops a site that publishes on another site's topics or on its own bundle, and delivers nothing", async () => {
    const { got } = await record(hub, ['weft/v1/site/#']);
    for (const topic of [topics.heartbeat('bravo'), topics.status('bravo'), topics.bundle('charlie'), 'weft/v1/broadcast/keys']) {
      const charlie = await connect('charlie');
      charlie.publish(topic, 'forged', { qos: 0 });
      await closed(charlie);
    }
    // Its own topics still work for a well-behaved session.
    const charlie = await connect('charlie');
    await charlie.publishAsync(topics.heartbeat('charlie'), 'hb', { qos: 1 });
    await waitFor(() => got.some((m) => m.payload === 'hb'), 'own heartbeat at the hub');
    expect(got.filter((m) => m.payload === 'forged')).toEqual([]);
    expect(await registry.getSingleMetricAsString('weft_broker_acl_denied_total')).toContain('action="publish"} 4');
  });

  it('publishes the retained last will when a site process is killed with -9', async () => {
    const d = site('delta');
    const child = spawn(process.execPath, ['bin/run.mjs', 'hub/broker/testing/site-client.ts', broker.url()], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      child.stdin.end(JSON.stringify(d));
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (b: Buffer) => b.toString().includes('ready') && resolve());
        child.once('exit', (code) => reject(new Error(`site client exited ${code}`)));
      });
      const { got } = await record(hub, [topics.status('delta')]);
      await waitFor(() => got.some((m) => m.payload === ONLINE), 'retained online');
      const downs: string[] = [];
      broker.sessions.on('down', (id: string) => downs.push(id));
      child.kill('SIGKILL');
      await waitFor(() => got.some((m) => JSON.parse(m.payload).state === 'offline'), 'last will');
      expect(downs).toContain('delta');
      // Retained: a subscriber arriving later still reads `offline`.
      const late = await broker.hubClient();
      const later = await record(late, [topics.status('delta')]);
      await waitFor(() => later.got.length > 0, 'retained will');
      expect(later.got[0]).toMatchObject({ retain: true });
      expect(JSON.parse(later.got[0].payload).state).toBe('offline');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('kicks a site at once (its will fires) and refuses it from then on; revoked sites are refused', async () => {
    const echo = await connect('echo');
    const { got } = await record(hub, [topics.status('echo')]);
    expect(broker.connectedSites()).toContain('echo');
    await broker.kick('echo');
    await closed(echo);
    await waitFor(() => got.some((m) => m.payload.includes('offline')), 'will after kick');
    expect(broker.connectedSites()).not.toContain('echo');
    const e = site('echo');
    expect(await refusalCode(broker.url(), { clientId: 'echo', username: e.username, password: e.password })).toBe(5);

    sites.revoked.add('golf');
    const g = site('golf');
    expect(await refusalCode(broker.url(), { clientId: 'golf', username: g.username, password: g.password })).toBe(5);
  });

  it('survives random bytes and malformed MQTT on its port', async () => {
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
    const connectHeader = Buffer.from([0x10, 0x20, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0xc2]);
    const payloads = [
      ...Array.from({ length: 150 }, () => bytes(1 + Math.floor(rand() * 2048))),
      ...Array.from({ length: 50 }, () => Buffer.concat([connectHeader, bytes(Math.floor(rand() * 64))])),
      Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x7f]), // remaining length beyond the 4-byte limit
      Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f]), // PUBLISH before CONNECT, 256 MB announced
      Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
    ];
    await Promise.all(
      payloads.map(
        (p) =>
          new Promise<void>((resolve) => {
            const s = tcpConnect(broker.port, '127.0.0.1', () => s.end(p));
            s.on('error', () => resolve());
            s.on('close', () => resolve());
            s.resume();
            s.setTimeout(2000, () => s.destroy());
          }),
      ),
    );
    // Still serving: a site connects and its heartbeat reaches the hub.
    const { got } = await record(hub, [topics.heartbeat('bravo')]);
    const bravo = await connect('bravo');
    await bravo.publishAsync(topics.heartbeat('bravo'), 'alive', { qos: 1 });
    await waitFor(() => got.some((m) => m.payload === 'alive'), 'heartbeat after fuzzing');
  });
});

describe('embedded aedes broker over TLS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-broker-tls-'));
  const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
  if (!hasOpenssl) console.warn('skipping TLS broker test: openssl binary not found');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.skipIf(!hasOpenssl)('speaks MQTT over TLS only, to sites and to the hub client', async () => {
    const r = spawnSync('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-subj',
      '/CN=weft-hub',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ]);
    expect(r.status, r.stderr.toString()).toBe(0);
    const cert = readFileSync(join(dir, 'cert.pem'));
    const sites = testSites(['tango']);
    const broker = await startBroker({ port: 0, auth: sites.auth, tls: { key: readFileSync(join(dir, 'key.pem')), cert } });
    try {
      expect(broker.url()).toMatch(/^mqtts:\/\//);
      const hub = await broker.hubClient();
      const { got } = await record(hub, [topics.heartbeat('tango')]);
      const tango = await connectSite(broker.url(), sites.sites.get('tango')!, { ca: cert });
      await tango.publishAsync(topics.heartbeat('tango'), 'over tls', { qos: 1 });
      await waitFor(() => got.some((m) => m.payload === 'over tls'), 'heartbeat over TLS');
      await tango.endAsync();
      // Plain MQTT on the TLS port never gets a CONNACK.
      const t = sites.sites.get('tango')!;
      expect(
        await refusalCode(`mqtt://127.0.0.1:${broker.port}`, { clientId: 'tango', username: t.username, password: t.password, connectTimeout: 1000 }),
      ).not.toBe(0);
    } finally {
      await broker.close();
    }
  });
});
