// The agent's hub link against a real three-node NATS cluster (JetStream + MQTT, loopback ports picked
// free, temp dirs): given every node's address, it fails over when the node it uses is killed -9
// mid-drain, and every event in its outbox reaches the hub's subscriber on another node, none lost.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../base/index.ts';
import { createLogger, Link } from '../edge-agent/index.ts';
import { findNatsServer, issueDerivedCredential, localClusterSpecs, startNats, type NatsBroker } from '../hub/index.ts';
import { openStore, type AgentStore } from '../offline-store/index.ts';
import { topics } from '../protocol/index.ts';

const haveNats = findNatsServer() !== null;
if (!haveNats) console.warn('skipping the NATS failover test: nats-server not installed');

const SITE = 'store-f1';

describe.skipIf(!haveNats)('agent link failover across a NATS cluster', () => {
  let dir: string;
  let broker: NatsBroker;
  let store: AgentStore;
  let hub: MqttClient;
  let link: Link;
  const key = randomBytes(32);
  const cred = issueDerivedCredential(key, SITE);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'weft-nats-failover-'));
    broker = await startNats({
      dir: join(dir, 'hub'),
      key,
      nodes: await localClusterSpecs(3, 'fn'),
      credentials: () => [{ siteId: SITE, username: SITE, passwordHash: cred.hash }],
      revokedSites: () => [],
      // The killed node stays dead for the whole test.
      restartDelayMs: 120_000,
      logger: process.env.WEFT_NATS_TEST_LOG ? pino({ level: 'debug' }, pino.destination(process.env.WEFT_NATS_TEST_LOG)) : undefined,
    });
    store = openStore(join(dir, 'agent.db'));
  }, 90_000);
  afterAll(async () => {
    await link?.stop();
    await hub?.endAsync(true);
    store?.close();
    await broker?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('moves to the next node when its node is killed -9 mid-drain, with no event lost', async () => {
    const [n1, , n3] = broker.nodes();
    hub = await connectAsync(n3.url, { clientId: `_weft_hub.failover.${Date.now()}`, ...broker.hubCredentials, protocolVersion: 4, reconnectPeriod: 0 });
    const seen = new Set<number>();
    hub.on('message', (_t, p) => seen.add((JSON.parse(p.toString()) as { n: number }).n));
    await hub.subscribeAsync(topics.events(SITE), { qos: 1 });

    link = new Link({
      siteId: SITE,
      url: n1.url,
      urls: broker.nodes().map((n) => n.url),
      username: SITE,
      password: cred.password,
      outbox: store.outbox,
      log: createLogger({ level: process.env.WEFT_NATS_TEST_LOG ? 'debug' : 'silent' }),
      agentVersion: 'test',
      heartbeatIntervalS: 3600,
      heartbeat: () => ({ nodeReady: true, enforcing: true, appliedGeneration: 1, checks: [], load: 0 }),
      onBundle: async () => undefined,
      backoff: { minMs: 100, maxMs: 1000 },
      // 'auto': NATS refuses MQTT 5, the link moves to 3.1.1 as it does for aedes.
    });
    link.start();
    await waitFor(() => link.state.state === 'connected', { timeoutMs: 15_000, what: 'link connected to node 1' });
    expect(link.state.url).toBe(n1.url);
    expect(link.state.mqttVersion).toBe(4);

    for (let i = 0; i < 1000; i++) store.outbox.append(topics.events(SITE), JSON.stringify({ v: 1, seq: 0, at: 'x', type: 'verdicts', n: i }), 'low');
    link.kick();
    await waitFor(() => seen.size > 20, { timeoutMs: 10_000, what: 'some events through node 1' });
    process.kill(n1.pid!, 'SIGKILL');
    const killedAt = Date.now();
    await waitFor(() => link.state.state === 'connected' && link.state.url !== n1.url, { timeoutMs: 30_000, what: 'link on another node' });
    const movedMs = Date.now() - killedAt;
    await waitFor(() => store.outbox.depth() === 0 && seen.size === 1000, { timeoutMs: 30_000, what: 'every event at the hub' });
    console.log(`link moved from node 1 to ${link.state.url} ${movedMs} ms after kill -9; ${seen.size} of 1000 events delivered`);
    expect(store.outbox.lost().records).toBe(0);
  }, 90_000);
});
