// The embedded broker under abuse, from outside (issue 15, item 3): a raw TCP client declaring a huge
// CONNECT, a real mqtt.js site publishing a huge message on its own topic, and one address opening
// many connections. Each test fails on the broker before the frame guard and the per-address cap.
import { connect as tcpConnect, type Socket } from 'node:net';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { topics } from '../../protocol/index.ts';
import { startBroker } from './aedes-broker.ts';
import { closed, connectSite, record, testSites, waitFor } from './testing/sites.ts';
import type { Broker, BrokerLimits } from './types.ts';
import { mqttLength } from './testing/mqtt-wire.ts';

const sites = testSites(['alpha', 'bravo']);
const brokers: Broker[] = [];

async function broker(limits: Partial<BrokerLimits> = {}, registry = new Registry()): Promise<Broker> {
  const b = await startBroker({ hosts: ['127.0.0.1'], port: 0, auth: sites.auth, registry, limits });
  brokers.push(b);
  return b;
}

afterEach(async () => {
  for (const b of brokers.splice(0)) await b.close();
});

function open(port: number, localAddress = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = tcpConnect({ port, host: '127.0.0.1', localAddress }, () => resolve(s));
    s.once('error', reject);
  });
}

const closedWithin = (s: Socket, ms: number) =>
  new Promise<boolean>((resolve) => {
    if (s.destroyed) return resolve(true);
    const t = setTimeout(() => resolve(false), ms);
    s.once('close', () => {
      clearTimeout(t);
      resolve(true);
    });
  });

describe('embedded broker limits', () => {
  it('cuts off an unauthenticated CONNECT declaring 256 MB (the most MQTT allows) at its header, buffering nothing', async () => {
    const registry = new Registry();
    const b = await broker({}, registry);
    const s = await open(b.port);
    s.on('error', () => undefined);
    const before = process.memoryUsage().arrayBuffers;
    s.write(Buffer.concat([Buffer.from([0x10]), mqttLength(256 * 1024 * 1024 - 1)]));
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    for (let i = 0; i < 32 && !s.destroyed; i++) s.write(chunk);
    expect(await closedWithin(s, 2_000)).toBe(true);
    // Nothing the client sent stays in the hub (the client's own 1 MiB chunk is the only buffer here).
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
    expect(await registry.getSingleMetricAsString('weft_broker_refused_total')).toContain('reason="packet_too_large"} 1');
  });

  it('cuts off a site that publishes more than maxPacketBytes on its own topic; it reconnects and publishes small', async () => {
    const b = await broker({ maxPacketBytes: 1024 * 1024 });
    const hub = await b.hubClient();
    const { got } = await record(hub, [topics.events('alpha')]);
    const a = await connectSite(b.url(), sites.sites.get('alpha')!);
    const gone = closed(a);
    a.publish(topics.events('alpha'), Buffer.alloc(8 * 1024 * 1024, 0x62), { qos: 1 });
    await gone;
    const again = await connectSite(b.url(), sites.sites.get('alpha')!);
    await again.publishAsync(topics.events('alpha'), Buffer.from('small'), { qos: 1 });
    await waitFor(() => got.length === 1, 'the small message');
    expect(got.map((m) => m.payload.length)).toEqual([5]);
    await again.endAsync();
    await hub.endAsync();
  });

  it('holds at most maxConnectionsPerAddress connections from one address; other addresses still connect', async () => {
    const b = await broker({ maxConnectionsPerAddress: 3, uncappedAddresses: [] });
    const held = await Promise.all([0, 1, 2].map(() => open(b.port)));
    try {
      const extra = await open(b.port);
      expect(await closedWithin(extra, 1_000)).toBe(true);
      const other = await open(b.port, '127.0.0.2');
      expect(await closedWithin(other, 300)).toBe(false);
      other.destroy();
      // A freed slot can be taken again.
      held[0].destroy();
      await new Promise((r) => setTimeout(r, 100));
      const next = await open(b.port);
      expect(await closedWithin(next, 300)).toBe(false);
      next.destroy();
    } finally {
      for (const s of held) s.destroy();
    }
  });
});
