// The embedded broker (default): aedes in the hub process, every client authenticated, every site
// held to protocol/topics.ts siteMayPublish/siteMaySubscribe. Retained messages and wills live in
// aedes' in-memory persistence: they do not survive a hub restart, so on start the hub republishes
// each site's retained bundle from its store, and agents republish their retained `online` status
// when they reconnect.
import { EventEmitter } from 'node:events';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { pino } from 'pino';
import { nodeUsername, siteMayPublish, siteMayReceive, siteMaySubscribe } from '../../protocol/index.ts';
import { brokerUrl, HubClients, preferLoopback } from './hub-client.ts';
import { listenAll } from './listen.ts';
import { brokerMetrics } from './metrics.ts';
import { randomSecret } from './password.ts';
import { BROKER_LIMITS, BrokerError, HUB_USERNAME, type Broker, type BrokerStartOptions } from './types.ts';

/** Who a connected client is; set once authenticate() accepts it. `key`: the site id, or `<siteId>.<node>` for a node. */
type Identity = { hub: true } | { hub: false; siteId: string; node?: string; key: string };

// MQTT 3.1.1 CONNACK return codes (aedes' AuthErrorCode is a const enum, unusable under isolatedModules).
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;
const SERVER_UNAVAILABLE = 3;

function refusal(message: string, returnCode: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * A site's client id must be its site id, or `<siteId>.<suffix>`: MQTT lets a new session with an
 * existing client id take over the old one, so any other id would let a site kick another off
 * (and fire that site's last will).
 */
export function clientIdBelongsTo(clientId: string, siteId: string): boolean {
  return clientId === siteId || clientId.startsWith(`${siteId}.`);
}

/** What the will in a CONNECT may target, as the site (or node) itself could publish it. */
function willAllowed(client: Client, siteId: string, node?: string): boolean {
  const will = (client as Client & { _will?: { topic?: string } | null })._will;
  return !will || siteMayPublish(siteId, String(will.topic ?? ''), node);
}

export async function startBroker(opts: BrokerStartOptions): Promise<Broker> {
  const log = opts.logger ?? pino({ level: 'silent' });
  const metrics = brokerMetrics(opts.registry);
  const hosts = opts.hosts?.length ? opts.hosts : ['127.0.0.1'];
  const hubPassword = randomSecret();
  const identities = new WeakMap<Client, Identity>();
  /** Authenticated site clients by site id (also those still finishing CONNECT). */
  const siteClients = new Map<string, Set<Client>>();
  const kicked = new Set<string>();
  const sessions = new EventEmitter();

  const aedes = new Aedes({
    id: `weft-hub-${randomBytes(4).toString('hex')}`,
    connectTimeout: 10_000,
    // A site that stops reading must not stall delivery of bundles to every other site.
    drainTimeout: 30_000,
    maxTopicLevels: 16,
    // No cap on messages in flight inside aedes' emitter. With the default cap (100) a burst queues,
    // and the queue drains by synchronous recursion: 10 000 sites going away at once (their wills)
    // overflowed the stack and killed the hub in bench:hub. Unqueued, each message is routed at once.
    concurrency: 0,
    authenticate(client, username, password, done) {
      const user = username ?? '';
      const pass = password ? password.toString('utf8') : '';
      if (user === HUB_USERNAME) {
        if (!sameSecret(pass, hubPassword) || !client.id.startsWith(`${HUB_USERNAME}.`)) {
          metrics.refused.inc({ reason: 'bad_credentials' });
          return done(refusal('bad user name or password', BAD_USERNAME_OR_PASSWORD), false);
        }
        identities.set(client, { hub: true });
        return done(null, true);
      }
      void (async () => {
        const who = await opts.auth.authenticate(user, pass);
        if (!who) {
          metrics.refused.inc({ reason: 'bad_credentials' });
          log.warn({ username: user, clientId: client.id }, 'broker: refused bad credentials');
          return done(refusal('bad user name or password', BAD_USERNAME_OR_PASSWORD), false);
        }
        const { siteId, node } = who;
        // A node's key is its username: its client id must be that (a node cannot take over another's session).
        const key = node === undefined ? siteId : nodeUsername(siteId, node);
        if (kicked.has(siteId) || kicked.has(key) || (await opts.auth.isRevoked(siteId, node))) {
          metrics.refused.inc({ reason: 'revoked' });
          log.warn({ siteId, node }, 'broker: refused revoked site');
          return done(refusal('not authorized', NOT_AUTHORIZED), false);
        }
        if (!clientIdBelongsTo(client.id, key) || !willAllowed(client, siteId, node)) {
          metrics.refused.inc({ reason: 'impersonation' });
          log.warn({ siteId, node, clientId: client.id }, 'broker: refused client id or will outside the site');
          return done(refusal('not authorized', NOT_AUTHORIZED), false);
        }
        identities.set(client, { hub: false, siteId, node, key });
        let set = siteClients.get(key);
        if (!set) siteClients.set(key, (set = new Set()));
        set.add(client);
        // Count the session down only when its last connection is gone (a takeover by the same
        // site's reconnect closes the old socket after the new one authenticated).
        client.conn.once('close', () => {
          set.delete(client);
          if (set.size === 0 && siteClients.get(key) === set) {
            siteClients.delete(key);
            sessions.emit('down', siteId, node);
          }
        });
        done(null, true);
      })().catch((err: Error) => {
        log.error({ err: err.message }, 'broker: credential check failed');
        done(refusal('server unavailable', SERVER_UNAVAILABLE), false);
      });
    },
    authorizePublish(client, packet, callback) {
      const who = client ? identities.get(client) : { hub: true as const };
      if (who?.hub || (who && siteMayPublish(who.siteId, packet.topic, who.node))) return callback(null);
      metrics.aclDenied.inc({ action: 'publish' });
      log.warn({ siteId: who && !who.hub ? who.siteId : undefined, topic: packet.topic.slice(0, 200) }, 'broker: publish denied by ACL');
      // MQTT 3.1.1 has no negative PUBACK: aedes closes the connection, as the spec asks.
      callback(new Error('publish not authorized'));
    },
    authorizeSubscribe(client, sub, callback) {
      const who = identities.get(client);
      if (who?.hub || (who && siteMaySubscribe(who.siteId, sub.topic, who.node))) return callback(null, sub);
      metrics.aclDenied.inc({ action: 'subscribe' });
      log.warn({ siteId: who && !who.hub ? who.siteId : undefined, filter: sub.topic.slice(0, 200) }, 'broker: subscribe denied by ACL');
      callback(null, null); // SUBACK 0x80 for this filter; the session stays up
    },
    authorizeForward(client, packet) {
      // Defence in depth: even if a filter slipped through, a site only ever receives its own
      // bundle, its update order, its own peers and broadcasts (and a node its site's nodes' status and heartbeats).
      const who = identities.get(client);
      if (!who || who.hub) return packet;
      return siteMayReceive(who.siteId, packet.topic, who.node) ? packet : null;
    },
  });
  // aedes reports persistence and emitter failures as 'error'; one bad client must not end the hub.
  (aedes as EventEmitter).on('error', (err: Error) => log.error({ err: err.message }, 'broker: internal error'));
  aedes.on('clientError', (client: Client, err: Error) => log.debug({ clientId: client.id, err: err.message }, 'broker: client error'));
  aedes.on('connectionError', (_client: Client, err: Error) => {
    metrics.protocolErrors.inc();
    log.debug({ err: err.message }, 'broker: connection error');
  });
  aedes.on('clientReady', (client: Client) => {
    metrics.connections.inc();
    const who = identities.get(client);
    if (who && !who.hub) sessions.emit('up', who.siteId, who.node);
  });
  aedes.on('clientDisconnect', () => metrics.connections.dec());
  await aedes.listen();

  const limits = { ...BROKER_LIMITS, ...opts.limits };
  const onReject = (reason: string) => {
    metrics.refused.inc({ reason });
    log.warn({ reason }, 'broker: connection cut off');
  };
  const listeners = await listenAll(hosts, opts.port ?? 0, opts.tls, limits, (socket) => aedes.handle(socket), onReject).catch(async (err: Error) => {
    await new Promise<void>((r) => aedes.close(() => r()));
    throw err;
  });
  const port = listeners.port;
  const hubClients = new HubClients(() => ({ host: preferLoopback(hosts), port, password: hubPassword, tlsCert: opts.tls?.cert }));
  log.info({ hosts, port, tls: Boolean(opts.tls) }, 'broker: embedded aedes listening');

  let closed = false;
  return {
    kind: 'aedes',
    port,
    hosts,
    url: (host = hosts[0]) => brokerUrl(host, port, Boolean(opts.tls)),
    hubCredentials: { username: HUB_USERNAME, password: hubPassword },
    hubClient: () => hubClients.connect(),
    publishLocal: (topic, payload, o) =>
      new Promise<void>((resolve, reject) => {
        if (closed) return reject(new BrokerError('BROKER_CLOSED', 'the embedded broker is closed', 'the hub is shutting down'));
        // The hub's own publish: trusted like its full-access client, so no authorizePublish.
        aedes.publish({ cmd: 'publish', topic, payload, qos: o.qos, retain: o.retain, dup: false }, (err?: Error | null) => (err ? reject(err) : resolve()));
      }),
    async kick(siteId) {
      kicked.add(siteId);
      // A site id covers its nodes' sessions too; `<siteId>.<node>` only that node's.
      const keys = [...siteClients.keys()].filter((k) => k === siteId || (!siteId.includes('.') && k.startsWith(`${siteId}.`)));
      const clients = keys.flatMap((k) => [...(siteClients.get(k) ?? [])]);
      if (!clients.length) return;
      // close() without a DISCONNECT from the client: aedes publishes the site's last will.
      await Promise.all(clients.map((c) => new Promise<void>((r) => c.close(() => r()))));
      log.info({ siteId }, 'broker: site kicked');
    },
    sync: async () => undefined,
    connectedSites: () => [...siteClients.keys()],
    sessions,
    async close() {
      if (closed) return;
      closed = true;
      await hubClients.closeAll();
      await new Promise<void>((r) => aedes.close(() => r()));
      await listeners.close();
    },
  };
}
