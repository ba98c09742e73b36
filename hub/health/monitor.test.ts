// The monitor on a real embedded broker with real site clients: heartbeats bring a site up, a
// dropped session or a silent site takes it down, malformed payloads are counted, and a new monitor
// (a restarted hub on a broker that kept running) warm-starts from retained statuses.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { Registry } from 'prom-client';
import { topics } from '../../protocol/index.ts';
import { startBroker } from '../broker/aedes-broker.ts';
import { connectSite, testSites, waitFor, type TestSites } from '../broker/testing/sites.ts';
import type { Broker } from '../broker/types.ts';
import { createHealthModel } from '../../router/index.ts';
import { startHealthMonitor, type HealthMonitor } from '../../router/index.ts';
import type { HealthModel, SiteHealthEvent } from '../../router/index.ts';

// Fast heartbeats where a test waits for staleness (stale after 3 × 100 ms); the default elsewhere,
// so a slow CI machine never turns a test's site stale by accident.
const FAST = { heartbeatIntervalMs: 100, missedHeartbeats: 3, upAfter: 2 };
const heartbeat = (ok = true, load = 0.3) =>
  JSON.stringify({
    v: 1,
    at: new Date().toISOString(),
    nodeReady: true,
    enforcing: true,
    appliedGeneration: 1,
    checks: [{ name: 'pos', ok }],
    load,
    link: { reconnects: 0, outboxDepth: 0, outboxLost: 0 },
  });

describe('health monitor over MQTT', () => {
  let broker: Broker;
  let sites: TestSites;
  const open: MqttClient[] = [];
  const monitors: HealthMonitor[] = [];

  async function monitor(opts: { fast?: boolean; registry?: Registry } = {}) {
    const health = createHealthModel(opts.fast ? FAST : {});
    const events: SiteHealthEvent[] = [];
    health.on('event', (e: SiteHealthEvent) => events.push(e));
    const m = await startHealthMonitor({ client: await broker.hubClient(), health, sessions: broker.sessions, tickMs: 20, registry: opts.registry });
    monitors.push(m);
    return { health, events, m };
  }
  async function site(id: string) {
    const c = await connectSite(broker.url(), sites.sites.get(id)!);
    open.push(c);
    await c.publishAsync(topics.status(id), JSON.stringify({ v: 1, state: 'online' }), { qos: 1, retain: true });
    return c;
  }
  const beat = (c: MqttClient, id: string, ok = true) => c.publishAsync(topics.heartbeat(id), heartbeat(ok), { qos: 1 });
  const stateOf = (h: HealthModel, id: string) => h.get(id)?.health;

  beforeAll(async () => {
    sites = testSites(['s1', 's2', 's3', 's4', 's5']);
    broker = await startBroker({ port: 0, auth: sites.auth });
  });
  afterAll(async () => {
    await Promise.all(monitors.map((m) => m.close()));
    await Promise.all(open.map((c) => c.endAsync(true)));
    await broker?.close();
  });

  it('brings a site up after two heartbeats and down at once when its session drops', async () => {
    const { health, events } = await monitor();
    const c = await site('s1');
    await beat(c, 's1');
    await beat(c, 's1');
    await waitFor(() => stateOf(health, 's1') === 'online', 's1 online');
    expect(health.get('s1')?.load).toBe(0.3);
    c.stream.destroy(); // the link dies without a DISCONNECT
    await waitFor(() => stateOf(health, 's1') === 'offline', 's1 offline');
    expect(events.map((e) => [e.siteId, e.from, e.to])).toEqual([
      ['s1', 'offline', 'online'],
      ['s1', 'online', 'offline'],
    ]);
    expect(events[1].reason).toMatch(/session dropped|last will/);
  });

  it('marks a silent site offline after three missed heartbeats', async () => {
    const { events } = await monitor({ fast: true });
    const c = await site('s2');
    await beat(c, 's2');
    await beat(c, 's2');
    // The session stays up; only the heartbeats stop.
    await waitFor(() => events.some((e) => e.to === 'offline'), 's2 stale');
    expect(events.map((e) => e.to)).toEqual(['online', 'offline']);
    expect(events[1].reason).toMatch(/^stale: no heartbeat/);
    expect(c.connected).toBe(true);
  });

  it('degrades on a failing check reported in a heartbeat', async () => {
    const { health } = await monitor();
    const c = await site('s3');
    await beat(c, 's3');
    await beat(c, 's3');
    await waitFor(() => stateOf(health, 's3') === 'online', 's3 online');
    await beat(c, 's3', false);
    await waitFor(() => stateOf(health, 's3') === 'degraded', 's3 degraded');
  });

  it('counts and ignores malformed payloads from a site', async () => {
    const registry = new Registry();
    const { health, m } = await monitor({ registry });
    const c = await site('s4');
    for (const bad of ['not json', '{"v":2}', '{"v":1,"at":"x"}', Buffer.from([0xff, 0x00, 0xfe]), JSON.stringify({ v: 1, state: 'sideways' })]) {
      await c.publishAsync(topics.heartbeat('s4'), bad, { qos: 1 });
      await c.publishAsync(topics.status('s4'), bad, { qos: 1 });
    }
    await beat(c, 's4');
    await beat(c, 's4');
    await waitFor(() => stateOf(health, 's4') === 'online', 's4 online after garbage');
    const counts = (await m.malformed.get()).values.reduce((n, v) => n + v.value, 0);
    expect(counts).toBe(10);
    expect(await registry.getSingleMetricAsString('weft_health_malformed_messages_total')).toContain('code="PROTO_NOT_JSON"');
  });

  it('warm-starts a new monitor from retained statuses, then requires heartbeats', async () => {
    const c = await site('s5');
    await beat(c, 's5');
    // A hub restart against a broker that kept running: a fresh model learns s5 is online at once
    // from the retained status, s1 (whose will fired earlier) offline.
    const { health, events } = await monitor({ fast: true });
    // Without heartbeats the trust runs out.
    await waitFor(() => events.some((e) => e.siteId === 's5' && e.to === 'offline'), 's5 stale after warm start');
    expect(events.filter((e) => e.siteId === 's5').map((e) => [e.to, e.reason.replace(/\d+ s$/, 'N s')])).toEqual([
      ['online', 'warm start: retained status online'],
      ['offline', 'stale: no heartbeat for N s'],
    ]);
    expect(stateOf(health, 's1')).toBe('offline');
  });
});
