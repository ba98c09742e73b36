// Helpers for broker tests and the hub benchmark: site credentials in memory (as the hub store
// would hold them), real mqtt.js site clients, and waiting without fixed sleeps.
import { waitFor as waitUntil } from '../../../base/index.ts';
import { connect, connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { topics } from '../../../protocol/index.ts';
import { hashPassword, randomSecret, verifyPassword } from '../password.ts';
import type { BrokerAuth, SiteCredential } from '../types.ts';

export interface TestSite extends SiteCredential {
  password: string;
}

export interface TestSites {
  sites: Map<string, TestSite>;
  revoked: Set<string>;
  auth: BrokerAuth;
  credentials(): SiteCredential[];
}

function randomCredential(): { password: string; hash: string } {
  const password = randomSecret();
  return { password, hash: hashPassword(password) };
}

/**
 * Sites with random passwords (or the ones `issue` gives, as a NATS-mode hub derives them); username
 * `site-<id>`.
 */
export function testSites(ids: string[], issue?: (siteId: string) => { password: string; hash: string }): TestSites {
  const sites = new Map<string, TestSite>();
  for (const siteId of ids) {
    const { password, hash } = issue?.(siteId) ?? randomCredential();
    sites.set(siteId, { siteId, username: `site-${siteId}`, password, passwordHash: hash });
  }
  const byUser = new Map([...sites.values()].map((s) => [s.username, s]));
  const revoked = new Set<string>();
  return {
    sites,
    revoked,
    auth: {
      authenticate(username, password) {
        const s = byUser.get(username);
        return s && verifyPassword(password, s.passwordHash) ? { siteId: s.siteId } : null;
      },
      isRevoked: (siteId) => revoked.has(siteId),
    },
    credentials: () =>
      [...sites.values()].filter((s) => !revoked.has(s.siteId)).map(({ siteId, username, passwordHash }) => ({ siteId, username, passwordHash })),
  };
}

/** A site's client as the agent connects: client id = site id, retained `offline` last will. */
export function connectSite(url: string, site: TestSite, extra: IClientOptions = {}): Promise<MqttClient> {
  return connectAsync(url, {
    clientId: site.siteId,
    username: site.username,
    password: site.password,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    will: { topic: topics.status(site.siteId), payload: Buffer.from(JSON.stringify({ v: 1, state: 'offline' })), qos: 1, retain: true },
    ...extra,
  });
}

/** The CONNACK return code of a refused connection; 0 if accepted, -1 if closed without a CONNACK. */
export function refusalCode(url: string, opts: IClientOptions): Promise<number> {
  return new Promise((resolve) => {
    const c = connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ...opts });
    const done = (code: number) => {
      c.removeAllListeners();
      c.on('error', () => undefined);
      c.end(true);
      resolve(code);
    };
    c.once('connect', () => done(0));
    c.once('error', (err) => {
      const code = (err as { code?: unknown }).code;
      done(typeof code === 'number' ? code : -1);
    });
    c.once('close', () => done(-1));
  });
}

export interface Received {
  topic: string;
  payload: string;
  retain: boolean;
}

/** Subscribes and records everything that arrives; resolves with the granted QoS per filter (128 = refused). */
export async function record(client: MqttClient, filters: string[]): Promise<{ granted: number[]; got: Received[] }> {
  const got: Received[] = [];
  client.on('message', (topic, payload, packet) => got.push({ topic, payload: payload.toString(), retain: packet.retain }));
  try {
    const granted = await client.subscribeAsync(filters, { qos: 1 });
    return { granted: granted.map((g) => g.qos), got };
  } catch (err) {
    // mqtt.js rejects when any filter is refused; the SUBACK still says which.
    const suback = (err as { packet?: { granted?: number[] } }).packet;
    if (!suback?.granted) throw err;
    return { granted: suback.granted, got };
  }
}

export async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  await waitUntil(cond, { what, timeoutMs, intervalMs: 10 });
}

/** Resolves when the client's connection is gone. */
export function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => {
    if (!client.connected) return resolve();
    client.once('close', () => resolve());
  });
}
