import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { openStore, type AgentStore } from '../offline-store/index.ts';
import { decode, topics } from '../protocol/index.ts';
import { Link, type LinkOptions } from './link.ts';
import { createLogger } from './logger.ts';
import { createMetrics } from './metrics.ts';
import { startBroker, type TestBroker } from './testing/broker.ts';
import { mosquittoMissing, startMosquitto } from './testing/mosquitto.ts';
import { waitFor } from '../base/index.ts';

const log = createLogger({ level: process.env.LINK_DEBUG ? 'debug' : 'silent' });
const SITE = 'store-7';
let dir: string;
let broker: TestBroker;
let store: AgentStore;
const links: Link[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'weft-link-'));
  broker = await startBroker();
});
afterEach(async () => {
  for (const l of links.splice(0)) await l.stop();
  store?.close();
  await broker.close();
  rmSync(dir, { recursive: true, force: true });
});

function link(over: Partial<LinkOptions> = {}): Link {
  const l = new Link({
    siteId: SITE,
    url: broker.url,
    outbox: store.outbox,
    log,
    metrics: createMetrics({ defaults: false }),
    agentVersion: 'test',
    heartbeatIntervalS: 3600,
    heartbeat: () => ({ nodeReady: true, enforcing: true, appliedGeneration: 4, checks: [], load: 0.1 }),
    onBundle: async () => undefined,
    backoff: { minMs: 20, maxMs: 100 },
    protocolVersion: 4,
    ...over,
  });
  links.push(l);
  l.start();
  return l;
}

const on = (topic: string) => broker.published.filter((p) => p.topic === topic);

describe('link', () => {
  it('says online (retained), heartbeats, and leaves a retained offline will when killed; reconnects by itself', async () => {
    store = openStore(join(dir, 'a.db'));
    const l = link();
    await waitFor(() => on(topics.heartbeat(SITE)).length === 1, { timeoutMs: 5000, what: 'heartbeat' });
    const hb = decode('heartbeat', on(topics.heartbeat(SITE))[0].payload as Buffer);
    expect(hb).toMatchObject({ appliedGeneration: 4, enforcing: true, link: { reconnects: 0, outboxDepth: 0, outboxLost: 0 } });
    const status = on(topics.status(SITE));
    expect(status[0].retain).toBe(true);
    expect(decode('status', status[0].payload as Buffer).state).toBe('online');

    // A watcher that joins later sees the retained state.
    broker.kill(SITE);
    await waitFor(() => on(topics.status(SITE)).length >= 2 && l.state.state === 'connected' && l.state.reconnects === 1, {
      timeoutMs: 5000,
      what: 'reconnect',
    });
    const watcher = await mqtt.connectAsync(broker.url);
    try {
      const states: string[] = [];
      watcher.on('message', (_t, p) => states.push(decode('status', p).state));
      await watcher.subscribeAsync(topics.status(SITE));
      await waitFor(() => states.length === 1, { timeoutMs: 5000, what: 'retained status' });
      expect(states).toEqual(['online']);
    } finally {
      await watcher.endAsync();
    }
    const seen = on(topics.status(SITE)).map((p) => decode('status', p.payload as Buffer).state);
    expect(seen).toEqual(['online', 'offline', 'online']);
  });

  it('hub down long: the outbox fills to its cap, losses are counted, the rest drains in order once back', async () => {
    store = openStore(join(dir, 'b.db'), { outbox: { maxRecords: 300, maxBytes: 1 << 20 } });
    broker.accept = false;
    const l = link();
    await waitFor(() => l.state.reconnects >= 2, { timeoutMs: 5000, what: 'failed connects' });
    const ev = (i: number) => JSON.stringify({ v: 1, seq: 0, at: new Date().toISOString(), type: 'verdicts', verdicts: [], n: i });
    store.outbox.append(topics.ack(SITE), JSON.stringify({ v: 1, generation: 9, result: 'applied', at: new Date().toISOString() }), 'high');
    for (let i = 0; i < 500; i++) store.outbox.append(topics.events(SITE), ev(i), 'low');
    expect(store.outbox.depth()).toBe(300);
    expect(store.outbox.lost().records).toBe(201);

    broker.accept = true;
    await waitFor(() => store.outbox.depth() === 0, { timeoutMs: 15_000, what: 'drain' });
    const events = on(topics.events(SITE)).map((p) => JSON.parse(String(p.payload)) as { seq: number; n: number });
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(299);
    // The newest 299 low records survived, none missing below the cap; the ack was never evicted.
    expect(events.map((e) => e.n)).toEqual(Array.from({ length: 299 }, (_, i) => 201 + i));
    expect(on(topics.ack(SITE))).toHaveLength(1);
    // The ack went through the outbox first: it carries its own seq, below every event's, for the hub's dedupe.
    const ack = decode('ack', on(topics.ack(SITE))[0].payload as Buffer);
    expect(ack.seq).toBeGreaterThan(0);
    expect(ack.seq).toBeLessThan(seqs[0]);
    await waitFor(() => on(topics.heartbeat(SITE)).length > 0, { timeoutMs: 5000, what: 'heartbeat' });
    expect(decode('heartbeat', on(topics.heartbeat(SITE))[0].payload as Buffer).link.outboxLost).toBe(201);
  });

  it('0 lost below the cap across a broker outage mid-drain', async () => {
    store = openStore(join(dir, 'c.db'));
    const l = link();
    await waitFor(() => l.state.state === 'connected', { timeoutMs: 5000, what: 'connected' });
    for (let i = 0; i < 400; i++) store.outbox.append(topics.events(SITE), JSON.stringify({ v: 1, seq: 0, at: 'x', type: 'verdicts', n: i }), 'low');
    l.kick();
    await waitFor(() => on(topics.events(SITE)).length > 50, { timeoutMs: 5000, what: 'some sent' });
    broker.kill(SITE);
    await waitFor(() => store.outbox.depth() === 0 && l.state.state === 'connected', { timeoutMs: 15_000, what: 'drained after reconnect' });
    const ns = new Set(on(topics.events(SITE)).map((p) => (JSON.parse(String(p.payload)) as { n: number }).n));
    expect(ns.size).toBe(400); // duplicates allowed (the hub dedupes by seq), losses not
    expect(store.outbox.lost().records).toBe(0);
  });

  it('fails over to the next broker address when its broker goes down mid-drain, losing nothing', async () => {
    store = openStore(join(dir, 'f.db'));
    const second = await startBroker();
    try {
      const l = link({ urls: [broker.url, second.url] });
      await waitFor(() => l.state.state === 'connected', { timeoutMs: 5000, what: 'connected' });
      expect(l.state.url).toBe(broker.url);
      for (let i = 0; i < 400; i++) store.outbox.append(topics.events(SITE), JSON.stringify({ v: 1, seq: 0, at: 'x', type: 'verdicts', n: i }), 'low');
      l.kick();
      await waitFor(() => on(topics.events(SITE)).length > 50, { timeoutMs: 5000, what: 'some sent' });
      broker.accept = false; // the first broker is down for good
      broker.kill(SITE);
      // The drain may finish on the first broker before the kill lands: wait for the move, not only an empty outbox.
      await waitFor(() => l.state.url === second.url && store.outbox.depth() === 0 && l.state.state === 'connected', {
        timeoutMs: 15_000,
        what: 'drained through the second broker',
      });
      expect(l.state.url).toBe(second.url);
      const all = [...on(topics.events(SITE)), ...second.published.filter((p) => p.topic === topics.events(SITE))];
      expect(new Set(all.map((p) => (JSON.parse(String(p.payload)) as { n: number }).n)).size).toBe(400);
      expect(second.published.some((p) => p.topic === topics.status(SITE))).toBe(true); // online said there too
    } finally {
      await second.close();
    }
  });

  it('delivers the retained bundle, and PUBACKs it only after it was handled', async () => {
    store = openStore(join(dir, 'd.db'));
    const hub = await mqtt.connectAsync(broker.url);
    await hub.publishAsync(topics.bundle(SITE), Buffer.from('bundle-bytes'), { qos: 1, retain: true });
    await hub.endAsync();
    const got: string[] = [];
    link({ onBundle: async (b) => void got.push(b.toString()) });
    await waitFor(() => got.length === 1, { timeoutMs: 5000, what: 'bundle' });
    expect(got).toEqual(['bundle-bytes']);
  });

  it('auto: MQTT 5 where the broker speaks it, 3.1.1 at once where it refuses 5 (aedes), without counting a reconnect', async () => {
    store = openStore(join(dir, 'auto.db'));
    const onAedes = link({ protocolVersion: 'auto' });
    await waitFor(() => onAedes.state.state === 'connected', { timeoutMs: 5000, what: 'connected to aedes' });
    expect(onAedes.state).toMatchObject({ mqttVersion: 4, reconnects: 0, lastError: null });
    expect(decode('status', on(topics.status(SITE))[0].payload as Buffer).state).toBe('online');
    await onAedes.stop();
    if (mosquittoMissing) return void console.warn(`skipping the MQTT 5 half: ${mosquittoMissing}`);
    const mosq = await startMosquitto();
    try {
      const onMosquitto = link({ url: mosq.url, protocolVersion: 'auto' });
      await waitFor(() => onMosquitto.state.state === 'connected', { timeoutMs: 10_000, what: 'connected to Mosquitto' });
      expect(onMosquitto.state).toMatchObject({ mqttVersion: 5, reconnects: 0 });
    } finally {
      for (const l of links.splice(0)) await l.stop();
      await mosq.close();
    }
  });

  it('a pinned MQTT 5 against a 3.1.1-only broker does not fall back: it retries with backoff, saying why', async () => {
    store = openStore(join(dir, 'pinned.db'));
    const l = link({ protocolVersion: 5 });
    await waitFor(() => l.state.reconnects >= 2, { timeoutMs: 5000, what: 'retries' });
    expect(l.state).toMatchObject({
      state: expect.stringMatching(/offline|connecting/),
      mqttVersion: 5,
      lastError: expect.stringMatching(/protocol version/i),
    });
  });

  it.each([
    ['MQTT 3.1.1 (aedes, the hub default)', 4 as const],
    ['MQTT 5 (Mosquitto)', 5 as const],
  ])('%s: a persistent session delivers what was published while the site was away', async (_name, version) => {
    if (version === 5 && mosquittoMissing) return void console.warn(`skipping the MQTT 5 case: ${mosquittoMissing}`);
    store = openStore(join(dir, `p${version}.db`));
    const mosq = version === 5 ? await startMosquitto() : null;
    const url = mosq?.url ?? broker.url;
    try {
      const got: string[] = [];
      const first = link({ url, protocolVersion: version, onBundle: async (b) => void got.push(b.toString()) });
      await waitFor(() => first.state.state === 'connected', { timeoutMs: 10_000, what: 'connected' });
      await first.stop();
      const hub = await mqtt.connectAsync(url, { protocolVersion: version });
      await hub.publishAsync(topics.bundle(SITE), Buffer.from('while-away'), { qos: 1 }); // not retained: only the session keeps it
      await hub.endAsync();
      link({ url, protocolVersion: version, onBundle: async (b) => void got.push(b.toString()) });
      await waitFor(() => got.includes('while-away'), { timeoutMs: 10_000, what: 'queued bundle' });
      expect(got).toEqual(['while-away']);
    } finally {
      for (const l of links.splice(0)) await l.stop();
      await mosq?.close();
    }
  });
});
