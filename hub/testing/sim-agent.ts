// A simulated site agent for hub tests: enrolls like the real agent (Ed25519 proof, X25519 key),
// speaks real MQTT with its broker credentials, verifies every bundle with policy/bundle.ts
// (trusted keys from enrollment and the retained keys broadcast), and acks applied or rejected.
import { waitFor } from '../../base/index.ts';
import { createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { connectAsync, type MqttClient } from 'mqtt';
import { BundleError, KeySetError, verifyBundle, verifyKeySet, type BundlePayload } from '../../policy/index.ts';
import {
  enrollProofMessage,
  type EnrollRequest,
  type EnrollResponse,
  decode,
  encode,
  type AckMessage,
  type EventsMessage,
  type HeartbeatMessage,
  topics,
  type UpdateOrderMessage,
  type UpdateReport,
} from '../../protocol/index.ts';

export interface DeviceKeys {
  identity: { privateKey: KeyObject; publicKey: string };
  wireguardPublicKey: string;
}

export function deviceKeys(): DeviceKeys {
  const id = generateKeyPairSync('ed25519');
  const wg = generateKeyPairSync('x25519').publicKey.export({ format: 'der', type: 'spki' });
  return {
    identity: { privateKey: id.privateKey, publicKey: id.publicKey.export({ format: 'der', type: 'spki' }).toString('base64') },
    wireguardPublicKey: wg.subarray(wg.length - 32).toString('base64'),
  };
}

/** A request as the agent sends it: proof v1 without a challenge (agents before it), v2 with one. */
export function enrollRequest(siteName: string, keys: DeviceKeys, token?: string, challenge?: string): EnrollRequest {
  const base = { siteName, wireguardPublicKey: keys.wireguardPublicKey, token, ...(challenge === undefined ? {} : { challenge }) };
  return {
    ...base,
    identityPublicKey: keys.identity.publicKey,
    agentVersion: 'test',
    proof: sign(null, Buffer.from(enrollProofMessage(base), 'utf8'), keys.identity.privateKey).toString('base64'),
  };
}

export interface SimAgentOptions {
  /** Decide the ack for a verified bundle; default applied. */
  decide?: (p: BundlePayload) => Omit<AckMessage, 'v' | 'at' | 'generation'>;
  /** Do not ack (a site that applies silently; heartbeats still report the generation). */
  silent?: boolean;
  /** The generation applied before this connection (a reconnecting agent keeps it). */
  appliedGeneration?: number;
  /** How an agent update order ends here (reported as an 'update' event); absent: orders are only recorded. */
  update?: (o: UpdateOrderMessage) => Pick<UpdateReport, 'state' | 'code' | 'reason'>;
}

export class SimAgent {
  applied = 0;
  readonly bundles: BundlePayload[] = [];
  readonly rejections: BundleError[] = [];
  readonly trusted = new Map<string, KeyObject>();
  keySetVersion: number;
  readonly keySetRejections: KeySetError[] = [];
  readonly updateOrders: UpdateOrderMessage[] = [];
  private seq = 0;
  private waiters: (() => void)[] = [];

  private constructor(
    readonly siteId: string,
    readonly client: MqttClient,
    enrolled: EnrollResponse,
    private readonly o: SimAgentOptions,
  ) {
    for (const k of enrolled.signingKeys) this.trust(k.keyId, k.publicKey);
    this.keySetVersion = enrolled.signingKeysVersion ?? 0;
    this.applied = o.appliedGeneration ?? 0;
  }

  static async connect(brokerUrl: string, enrolled: EnrollResponse, o: SimAgentOptions = {}): Promise<SimAgent> {
    const client = await connectAsync(brokerUrl, {
      clientId: enrolled.siteId,
      username: enrolled.broker.username,
      password: enrolled.broker.password,
      reconnectPeriod: 0,
      protocolVersion: 4,
      will: { topic: topics.status(enrolled.siteId), payload: encode('status', { v: 1, state: 'offline' }), qos: 1, retain: true },
    });
    const a = new SimAgent(enrolled.siteId, client, enrolled, o);
    client.on('message', (topic, payload) => a.onMessage(topic, payload));
    await client.subscribeAsync({
      [topics.bundle(enrolled.siteId)]: { qos: 1 },
      [topics.update(enrolled.siteId)]: { qos: 1 },
      [topics.broadcastAll]: { qos: 1 },
    });
    await client.publishAsync(topics.status(enrolled.siteId), encode('status', { v: 1, state: 'online' }), { qos: 1, retain: true });
    return a;
  }

  private trust(keyId: string, spkiB64: string): void {
    this.trusted.set(keyId, createPublicKey({ key: Buffer.from(spkiB64, 'base64'), format: 'der', type: 'spki' }));
  }

  private onMessage(topic: string, payload: Buffer): void {
    if (topic === topics.signingKeys) {
      // As the real agent: only a set signed by a trusted key, newer than the one held, replaces the keys.
      const m = decode('keys', payload);
      try {
        const set = verifyKeySet(m.set, { trustedKeys: this.trusted, version: this.keySetVersion });
        this.trusted.clear();
        for (const k of set.keys) this.trust(k.keyId, k.publicKey);
        this.keySetVersion = set.version;
      } catch (e) {
        if (!(e instanceof KeySetError)) throw e;
        // The retained set the agent holds comes again on (re)subscribe: not a rejection.
        const again =
          e.code === 'KEYS_STALE_VERSION' && m.set !== undefined && (JSON.parse(m.set.payload) as { version: number }).version === this.keySetVersion;
        if (!again) this.keySetRejections.push(e);
      }
    } else if (topic === topics.update(this.siteId) && payload.length > 0) {
      const o = decode('update', payload);
      this.updateOrders.push(o);
      const d = this.o.update?.(o);
      if (d) {
        const version = (JSON.parse(o.release.payload) as { version: string }).version;
        this.events({
          seq: 1_000_000 + ++this.seq,
          at: new Date().toISOString(),
          type: 'update',
          update: { rolloutId: o.rolloutId, version, from: 'test', ...d },
        }).catch(() => undefined);
      }
    } else if (topic === topics.bundle(this.siteId) && payload.length > 0) {
      try {
        const p = verifyBundle(payload, { trustedKeys: this.trusted, siteId: this.siteId, appliedGeneration: this.applied });
        this.bundles.push(p);
        const d = this.o.decide?.(p) ?? { result: 'applied' as const };
        if (d.result === 'applied') this.applied = p.generation;
        // An ack lost to a closing connection is what a real agent sees too: the hub copes (heartbeats).
        if (!this.o.silent) this.ack({ ...d, generation: p.generation }).catch(() => undefined);
      } catch (e) {
        if (!(e instanceof BundleError)) throw e;
        this.rejections.push(e);
      }
    }
    for (const w of this.waiters.splice(0)) w();
  }

  ack(a: Omit<AckMessage, 'v' | 'at'>): Promise<unknown> {
    return this.client.publishAsync(topics.ack(this.siteId), encode('ack', { v: 1, at: new Date().toISOString(), ...a }), { qos: 1 });
  }

  heartbeat(patch: Partial<HeartbeatMessage> = {}): Promise<unknown> {
    const hb: HeartbeatMessage = {
      v: 1,
      at: new Date().toISOString(),
      nodeReady: true,
      enforcing: true,
      appliedGeneration: this.applied,
      checks: [],
      load: 0.1,
      link: { reconnects: 0, outboxDepth: 0, outboxLost: 0 },
      ...patch,
    };
    return this.client.publishAsync(topics.heartbeat(this.siteId), encode('heartbeat', hb), { qos: 0 });
  }

  events(m: Omit<EventsMessage, 'v'>): Promise<unknown> {
    return this.client.publishAsync(topics.events(this.siteId), encode('events', { v: 1, ...m }), { qos: 1 });
  }

  /** Resolves when cond() holds, re-checked on every message (no fixed sleeps). */
  async until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`site ${this.siteId}: timed out waiting for ${what}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

/** Polls cond until true (for hub-side state), failing after timeoutMs. */
export async function eventually(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  await waitFor(cond, { what, timeoutMs, intervalMs: 25 });
}
