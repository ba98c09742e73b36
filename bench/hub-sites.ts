// Simulated sites for bench/hub.ts, in their own process: one real MQTT 3.1.1 session per site with
// the credentials the hub gave it at enrollment (client id = site id, retained `offline` will),
// subscribed to its bundle; each bundle is verified
// (Ed25519 signature, site, generation) before the site acks `applied` on its ack topic, with a
// sequence number as the agent's outbox gives it.
// Driven over IPC: {type:'start', ...} -> {type:'ready', connected, failed, ms}; {type:'stop'} -> exit.
import { errorMessage } from '../base/index.ts';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { connectAsync, type MqttClient } from 'mqtt';
import { verifyBundle } from '../policy/index.ts';
import { encode, topics } from '../protocol/index.ts';

export interface SimSite {
  siteId: string;
  username: string;
  password: string;
  /** The broker node this site connects to (a cluster spreads sites over its nodes); default the start message's. */
  url?: string;
}

export interface StartMessage {
  type: 'start';
  url: string;
  sites: SimSite[];
  /** The hub's trusted bundle-signing keys (base64 SPKI DER, as enrollment hands them out). */
  keys: { keyId: string; publicKey: string }[];
  concurrency: number;
}

export type SimReport =
  | { type: 'ready'; connected: number; failed: number; ms: number; firstError: string | null }
  | { type: 'rejected'; siteId: string; error: string };

const clients: MqttClient[] = [];

async function startSite(url: string, site: SimSite, trustedKeys: ReadonlyMap<string, KeyObject>): Promise<void> {
  let applied = 0;
  // Acks carry an outbox sequence number as a real agent's do (the hub dedupes on it).
  let seq = 0;
  const client = await connectAsync(site.url ?? url, {
    clientId: site.siteId,
    username: site.username,
    password: site.password,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 60_000,
    keepalive: 120,
    will: { topic: topics.status(site.siteId), payload: encode('status', { v: 1, state: 'offline' }), qos: 1, retain: true },
  });
  clients.push(client);
  client.on('error', () => undefined);
  client.on('message', (_topic, payload) => {
    try {
      const bundle = verifyBundle(payload, { trustedKeys, siteId: site.siteId, appliedGeneration: applied });
      applied = bundle.generation;
      const ack = encode('ack', { v: 1, generation: bundle.generation, result: 'applied', at: new Date().toISOString(), seq: ++seq });
      client.publish(topics.ack(site.siteId), ack, { qos: 1 });
    } catch (err) {
      process.send?.({ type: 'rejected', siteId: site.siteId, error: errorMessage(err) } satisfies SimReport);
    }
  });
  await client.subscribeAsync(topics.bundle(site.siteId), { qos: 1 });
}

async function start(m: StartMessage): Promise<void> {
  const trusted = new Map(m.keys.map((k) => [k.keyId, createPublicKey({ key: Buffer.from(k.publicKey, 'base64'), format: 'der', type: 'spki' })]));
  const t0 = performance.now();
  let next = 0;
  let failed = 0;
  let firstError: string | null = null;
  // A bounded number of CONNECTs in flight, like sites coming back after an outage, not all at once.
  const worker = async () => {
    while (next < m.sites.length) {
      const site = m.sites[next++];
      await startSite(m.url, site, trusted).catch((err: Error) => {
        failed += 1;
        firstError ??= err.message;
      });
    }
  };
  await Promise.all(Array.from({ length: m.concurrency }, worker));
  process.send?.({ type: 'ready', connected: m.sites.length - failed, failed, ms: performance.now() - t0, firstError } satisfies SimReport);
}

process.on('message', (m: StartMessage | { type: 'stop' }) => {
  if (m.type === 'start') void start(m);
  else {
    for (const c of clients) c.end(true);
    process.exit(0);
  }
});
