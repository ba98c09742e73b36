// The hub link: one persistent MQTT session per site (clientId = site id, clean start off; with MQTT 5 a
// long session expiry) so QoS 1 bundles published while the site was away are delivered when it returns.
// MQTT 5 first; a broker that refuses the version (the hub's embedded aedes speaks only 3.1.1) gets 3.1.1 on
// the next connect, which keeps every guarantee below (config mqttProtocol, docs/agent.md). A retained
// `online` on connect and a retained `offline` last will on the status topic; heartbeats at QoS 0;
// everything that must arrive (acks, verdict batches, loss reports) leaves through the store's
// outbox, in sequence order, and is removed from it only after the broker's PUBACK.
import { errorMessage } from '../base/index.ts';
import { randomUUID } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Outbox } from '../offline-store/index.ts';
import {
  decode,
  encode,
  nodeUsername,
  parseSiteTopic,
  siblingTopics,
  topics,
  type HeartbeatMessage,
  type SigningKeysMessage,
  type UpdateOrderMessage,
} from '../protocol/index.ts';
import { backoffDelay, type BackoffOptions } from './backoff.ts';
import type { Logger } from './logger.ts';
import { setLinkState, type AgentMetrics, type LinkState } from './metrics.ts';

export interface LinkOptions {
  siteId: string;
  /** This device's node name in a multi-node site: it publishes under site/<id>/node/<node>/ and hears its site's other nodes. */
  node?: string;
  url: string;
  /**
   * Every address of a clustered broker (NATS), from the enrollment: after a drop the next connect goes
   * to the next address, so a dead node costs one backoff step. Default [url].
   */
  urls?: string[];
  username?: string;
  password?: string;
  /** PEM of the hub CA for mqtts:// brokers. */
  ca?: string;
  outbox: Outbox;
  log: Logger;
  metrics?: AgentMetrics;
  agentVersion: string;
  heartbeatIntervalS: number;
  heartbeat: () => Omit<HeartbeatMessage, 'link' | 'v' | 'at'>;
  /** Called with a bundle's bytes; the message is PUBACKed only after it resolves. */
  onBundle: (bytes: Buffer) => Promise<void>;
  onSigningKeys?: (msg: SigningKeysMessage) => void | Promise<void>;
  /** An agent update order from the hub (site/<id>/update, retained). */
  onUpdate?: (msg: UpdateOrderMessage) => void | Promise<void>;
  /** The hub's signed peer bundle (site links), retained on site/<id>/peers. */
  onPeers?: (bytes: Buffer) => Promise<void>;
  backoff?: BackoffOptions;
  /** Records per drain round; they are in flight together and acked up to the last PUBACKed one. */
  drainBatch?: number;
  /**
   * 'auto' (default): MQTT 5, and MQTT 3.1.1 if the broker refuses 5 (the hub's embedded aedes does).
   * 5 or 4 pin one version. Both keep a persistent session (clean start off) keyed by the site id.
   */
  protocolVersion?: MqttProtocol;
  /** Session expiry asked of an MQTT 5 broker (s). */
  sessionExpiryS?: number;
  clock?: () => number;
}

export type MqttProtocol = 4 | 5 | 'auto';

/** CONNACK codes for "this protocol version is not spoken here": 3.1.1's 1, MQTT 5's 0x84. */
const UNSUPPORTED_VERSION = new Set([1, 0x84]);

/** Another node of this site, as this node last heard it (its retained status and its heartbeats). */
export interface SiblingNode {
  name: string;
  state: 'online' | 'offline';
  agentVersion: string | null;
  appliedGeneration: number | null;
  nodeReady: boolean | null;
  /** When this node last heard from it (ms, this node's clock). */
  heardAt: number;
}

export interface LinkStatus {
  state: LinkState;
  url: string;
  /** The MQTT version of the current or next connect: 5, or 4 (3.1.1). */
  mqttVersion: 4 | 5;
  connectedSince: number | null;
  lastError: string | null;
  reconnects: number;
  lastHeartbeatAt: number | null;
}

export class Link {
  private client: MqttClient | null = null;
  private status: LinkStatus;
  private retryTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private attempt = 0;
  private draining = false;
  private drainAgain = false;
  private stopped = false;
  private readonly bootId = randomUUID();
  /** The site's other nodes as last heard (a node of a multi-node site subscribes to their status and heartbeats). */
  private readonly heard = new Map<string, SiblingNode>();
  /** Rejects when the current connection closes, so a drain waiting for PUBACKs lets go. */
  private lost: { promise: Promise<never>; reject: (e: Error) => void } | null = null;
  private readonly clock: () => number;
  private readonly urls: string[];
  private urlIndex = 0;
  /** The latest retained message per topic this site publishes (its mesh report): sent now if connected, else on connect. */
  private readonly retained = new Map<string, Buffer>();

  constructor(private readonly o: LinkOptions) {
    this.clock = o.clock ?? Date.now;
    this.urls = o.urls?.length ? o.urls : [o.url];
    this.status = {
      state: 'connecting',
      url: this.urls[0],
      mqttVersion: o.protocolVersion === 4 ? 4 : 5,
      connectedSince: null,
      lastError: null,
      reconnects: 0,
      lastHeartbeatAt: null,
    };
  }

  get state(): LinkStatus {
    return { ...this.status };
  }

  start(): void {
    this.connect();
  }

  private connect(): void {
    const o = this.o;
    const version = this.status.mqttVersion;
    const will = encode('status', { v: 1, state: 'offline', agentVersion: o.agentVersion, bootId: this.bootId });
    const opts: IClientOptions = {
      protocolVersion: version,
      // A node's client id is its broker username (<siteId>.<node>): the broker refuses any other.
      clientId: o.node === undefined ? o.siteId : nodeUsername(o.siteId, o.node),
      clean: false,
      ...(version === 5 ? { properties: { sessionExpiryInterval: o.sessionExpiryS ?? 7 * 24 * 3600 } } : {}),
      username: o.username,
      password: o.password,
      ca: o.ca,
      // Reconnects are ours (jittered exponential); mqtt.js would retry in lockstep at a fixed period.
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      keepalive: 30,
      // mqtt-packet would otherwise pre-build 65 536 two-byte Buffers (about 6 MB of heap) to save an allocation
      // per packet; a site sends a few packets a minute.
      writeCache: false,
      will: { topic: topics.status(o.siteId, o.node), payload: will, qos: 1, retain: true },
    };
    this.setState('connecting');
    const client = mqtt.connect(this.status.url, opts);
    this.client = client;
    // PUBACK a bundle only once it is stored and handled: a crash in between gets it redelivered.
    client.handleMessage = (packet, done) => {
      void this.onMessage(packet.topic, packet.payload as Buffer).finally(() => done());
    };
    client.on('connect', () => void this.onConnect());
    client.on('error', (e) => {
      this.status.lastError = e.message;
      if (this.shouldDowngrade(e)) return;
      o.log.warn({ err: e.message }, 'hub link error');
    });
    client.on('close', () => (this.client === client ? this.onClose() : undefined));
  }

  /** In 'auto', a broker refusing MQTT 5 gets 3.1.1 at once; not a failure, so no backoff. */
  private shouldDowngrade(e: Error & { code?: unknown }): boolean {
    if ((this.o.protocolVersion ?? 'auto') !== 'auto' || this.status.mqttVersion !== 5 || !UNSUPPORTED_VERSION.has(Number(e.code))) return false;
    this.status.mqttVersion = 4;
    this.o.log.info({ url: this.status.url }, 'the broker does not speak MQTT 5; using MQTT 3.1.1');
    const old = this.client;
    old?.end(true);
    if (!this.stopped && old) this.connect();
    return true;
  }

  /** Wake the drain loop: something was appended to the outbox. */
  kick(): void {
    void this.drain();
  }

  async stop(opts: { graceful?: boolean } = {}): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    const c = this.client;
    this.client = null;
    if (!c) return;
    if (opts.graceful && c.connected) {
      // A clean shutdown says offline itself; the will covers crashes.
      await c
        .publishAsync(topics.status(this.o.siteId), encode('status', { v: 1, state: 'offline', agentVersion: this.o.agentVersion, bootId: this.bootId }), {
          qos: 1,
          retain: true,
        })
        .catch(() => undefined);
    }
    await c.endAsync(!opts.graceful).catch(() => undefined);
    this.setState('disabled');
  }

  private setState(s: LinkState): void {
    this.status.state = s;
    if (this.o.metrics) setLinkState(this.o.metrics, s);
  }

  private async onConnect(): Promise<void> {
    const o = this.o;
    const c = this.client;
    if (!c) return;
    this.attempt = 0;
    let reject: (e: Error) => void = () => undefined;
    const promise = new Promise<never>((_, rj) => (reject = rj));
    promise.catch(() => undefined);
    this.lost = { promise, reject };
    try {
      await c.publishAsync(topics.status(o.siteId, o.node), encode('status', { v: 1, state: 'online', agentVersion: o.agentVersion, bootId: this.bootId }), {
        qos: 1,
        retain: true,
      });
      const sib = siblingTopics(o.siteId);
      await c.subscribeAsync({
        [topics.bundle(o.siteId)]: { qos: 1 },
        [topics.update(o.siteId)]: { qos: 1 },
        [topics.broadcastAll]: { qos: 1 },
        ...(o.onPeers ? { [topics.peers(o.siteId)]: { qos: 1 as const } } : {}),
        ...(o.node === undefined ? {} : { [sib.status]: { qos: 1 as const }, [sib.heartbeat]: { qos: 0 as const } }),
      });
      // What was to be said retained while the link was down (the mesh report) goes out now.
      for (const [topic, payload] of this.retained) await c.publishAsync(topic, payload, { qos: 1, retain: true });
    } catch (e) {
      o.log.warn({ err: errorMessage(e) }, 'hub link setup failed');
      return;
    }
    // Connected means the session is set up: online said, bundle topic subscribed.
    this.setState('connected');
    this.status.connectedSince = this.clock();
    this.status.lastError = null;
    o.log.info({ url: this.status.url, siteId: o.siteId }, 'hub link connected');
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => this.sendHeartbeat(), o.heartbeatIntervalS * 1000);
    this.heartbeatTimer.unref();
    this.sendHeartbeat();
    void this.drain();
  }

  private onClose(): void {
    this.lost?.reject(new Error('connection closed'));
    this.lost = null;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
    this.status.connectedSince = null;
    if (this.stopped || !this.client) return;
    this.setState('offline');
    this.attempt++;
    this.status.reconnects++;
    this.o.metrics?.linkReconnects.inc();
    const delay = backoffDelay(this.attempt, this.o.backoff ?? { minMs: 500, maxMs: 60_000 });
    this.o.log.info({ attempt: this.attempt, delayMs: delay, err: this.status.lastError }, 'hub link down; reconnecting');
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.stopped || !this.client) return;
      this.setState('connecting');
      if (this.urls.length === 1) {
        this.client.reconnect();
        return;
      }
      // The next address with a new client (same client id, persistent session): the cluster holds the
      // session and the retained messages; what must arrive is still in the outbox.
      this.urlIndex = (this.urlIndex + 1) % this.urls.length;
      this.status.url = this.urls[this.urlIndex];
      const old = this.client;
      this.client = null;
      old.end(true);
      this.connect();
    }, delay);
  }

  /** Publishes a retained message now if connected, and again on every connect (only the latest per topic is kept). */
  publishRetained(topic: string, payload: Buffer): void {
    this.retained.set(topic, payload);
    const c = this.client;
    if (c?.connected) c.publish(topic, payload, { qos: 1, retain: true });
  }

  private sendHeartbeat(): void {
    const c = this.client;
    if (!c?.connected) return;
    const lost = this.o.outbox.lost();
    const hb: HeartbeatMessage = {
      v: 1,
      at: new Date(this.clock()).toISOString(),
      ...this.o.heartbeat(),
      link: { reconnects: this.status.reconnects, outboxDepth: this.o.outbox.depth(), outboxLost: lost.records },
    };
    c.publish(topics.heartbeat(this.o.siteId, this.o.node), encode('heartbeat', hb), { qos: 0 });
    this.status.lastHeartbeatAt = this.clock();
  }

  /** The site's other nodes as this node last heard them (empty for a one-device site). */
  siblings(): SiblingNode[] {
    return [...this.heard.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  private onSibling(topic: string, payload: Buffer): void {
    const t = parseSiteTopic(topic);
    if (!t || t.siteId !== this.o.siteId || t.node === undefined || t.node === this.o.node || payload.length === 0) return;
    const prev = this.heard.get(t.node) ?? {
      name: t.node,
      state: 'offline' as const,
      agentVersion: null,
      appliedGeneration: null,
      nodeReady: null,
      heardAt: 0,
    };
    if (t.kind === 'status') {
      const m = decode('status', payload);
      this.heard.set(t.node, { ...prev, state: m.state, agentVersion: m.agentVersion ?? prev.agentVersion, heardAt: this.clock() });
    } else if (t.kind === 'heartbeat') {
      const m = decode('heartbeat', payload);
      this.heard.set(t.node, { ...prev, state: 'online', appliedGeneration: m.appliedGeneration, nodeReady: m.nodeReady, heardAt: this.clock() });
    }
  }

  private async onMessage(topic: string, payload: Buffer): Promise<void> {
    try {
      if (topic === topics.bundle(this.o.siteId)) {
        if (payload.length > 0) await this.o.onBundle(payload);
      } else if (topic === topics.peers(this.o.siteId)) {
        if (payload.length > 0) await this.o.onPeers?.(payload);
      } else if (topic === topics.signingKeys) {
        await this.o.onSigningKeys?.(decode('keys', payload));
      } else if (topic === topics.update(this.o.siteId) && payload.length > 0) {
        await this.o.onUpdate?.(decode('update', payload));
      } else {
        this.onSibling(topic, payload);
      }
    } catch (e) {
      this.o.log.error({ topic, err: errorMessage(e) }, 'message handling failed');
    }
  }

  /** Sends outbox records oldest first; removes them only once the broker PUBACKed them all. */
  private async drain(): Promise<void> {
    if (this.draining) {
      this.drainAgain = true;
      return;
    }
    this.draining = true;
    try {
      do {
        this.drainAgain = false;
        for (;;) {
          const c = this.client;
          const lost = this.lost;
          if (!c?.connected || !lost) return;
          const recs = this.o.outbox.peek(this.o.drainBatch ?? 64);
          if (recs.length === 0) break;
          await Promise.race([Promise.all(recs.map((r) => c.publishAsync(r.topic, withSeq(r.topic, r.payload, r.seq), { qos: 1 }))), lost.promise]);
          this.o.outbox.ack(recs[recs.length - 1].seq);
          this.updateOutboxMetrics();
        }
      } while (this.drainAgain);
    } catch (e) {
      // Disconnected mid-batch: the records stay in the outbox and go again, in order, on reconnect.
      this.o.log.debug({ err: errorMessage(e) }, 'outbox drain interrupted');
    } finally {
      this.draining = false;
      this.updateOutboxMetrics();
    }
  }

  private updateOutboxMetrics(): void {
    try {
      this.o.metrics?.outboxDepth.set(this.o.outbox.depth());
      this.o.metrics?.outboxLost.set(this.o.outbox.lost().records);
    } catch {
      // Store closed during shutdown.
    }
  }
}

/** Events and acks carry the outbox sequence number so the hub can dedupe redeliveries by (site, seq). */
function withSeq(topic: string, payload: Buffer, seq: number): Buffer {
  const kind = parseSiteTopic(topic)?.kind;
  if (kind !== 'events' && kind !== 'ack') return payload;
  const msg = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
  return Buffer.from(JSON.stringify({ ...msg, seq }), 'utf8');
}
