// The clustered broker option: nats-server nodes with JetStream and their MQTT listener, supervised by
// the hub. Agents keep speaking MQTT 3.1.1 (QoS 1, retained bundles, last wills); NATS replicates the
// retained messages and sessions across the cluster, so a site fails over to any node's address.
//
// The hub writes each node's config and one authorization (site users with subject permissions from
// site-grants.ts, tombstones for revoked sites, the hub and router users; nats-files.ts) and reloads
// the nodes on every change. A hub supervises the nodes it is given: one per machine in production
// (its peers' routes in the config), three on loopback in tests. Hubs that supervise different nodes
// tell each other to re-read the store on the broker itself (AUTHZ_TOPIC), so a revocation reaches every
// node within a second whichever hub received it.
import { accessSync, constants, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { delimiter, join } from 'node:path';
import { pino } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { writeSecret } from '../pki/files.ts';
import { brokerUrl, HubClients } from './hub-client.ts';
import { freePort } from './mosquitto.ts';
import { recoverSitePassword, servicePassword } from './nats-credentials.ts';
import { hubUser, renderAuthorization, renderNodeConfig, ROUTER_USERNAME, routerUser, siteUser, tombstoneUser, type NatsUser } from './nats-files.ts';
import { NatsNode, type PermissionViolation } from './nats-node.ts';
import { randomSecret } from './password.ts';
import { BrokerError, HUB_USERNAME, type Broker, type BrokerStartOptions, type SiteCredential } from './types.ts';

type MaybePromise<T> = T | Promise<T>;

/** Hub-only topic (no site or router grant covers it): "the authorization changed, re-read the store". */
export const AUTHZ_TOPIC = 'weft/v1/hub/authz';

export interface NatsNodeSpec {
  /** Unique in the cluster: the server name. */
  name: string;
  /** MQTT listener: one address (default 127.0.0.1) and port. */
  mqttHost?: string;
  mqttPort: number;
  /** NATS protocol listener and HTTP monitor, both on loopback. */
  clientPort: number;
  httpPort: number;
  /** Cluster listener (default the MQTT host) and the other nodes' cluster listeners, host:port. */
  clusterHost?: string;
  clusterPort: number;
  routes: string[];
}

export interface NatsStartOptions extends Omit<BrokerStartOptions, 'hosts' | 'port' | 'auth'> {
  /** Work directory: one sub-directory per node (config, authorization, JetStream store), created 0700. */
  dir: string;
  /**
   * The broker key (32 random bytes, the same file on every hub of the cluster): site, hub, router
   * and route passwords derive from it (nats-credentials.ts).
   */
  key: Buffer;
  /** The nodes this hub runs. */
  nodes: NatsNodeSpec[];
  /** Every node's MQTT URL, handed to sites to fail over between; default the nodes given here. */
  siteUrls?: string[];
  /** Every enrolled site's credential (SitesService.credentials()). */
  credentials(): MaybePromise<SiteCredential[]>;
  /** Revoked sites: kept as tombstone users (nats-files.ts tombstoneUser). */
  revokedSites(): MaybePromise<{ siteId: string; username: string }[]>;
  /** Default: nats-server on PATH, then /usr/sbin/nats-server. */
  binary?: string;
  /** Cluster name; default "weft". */
  clusterName?: string;
  /** Wait after a node died before restarting it; default 1000 ms. */
  restartDelayMs?: number;
  /** How long start() waits for every node to be ready (JetStream needs a majority); default 60 s. */
  readyTimeoutMs?: number;
}

export interface NatsBroker extends Broker {
  readonly kind: 'nats';
  /** Every node's MQTT URL, as sites get them. */
  siteUrls(): string[];
  /** The supervised nodes: name, pid (for crash tests), MQTT URL. */
  nodes(): { name: string; pid: number | null; url: string }[];
  /** The read-only user for weft-router processes (subscribe to statuses and heartbeats only); its password is also in <dir>/router-password. */
  readonly routerCredentials: { username: string; password: string };
  /** Permission violations seen in the nodes' logs since start. */
  violations(): number;
}

export function findNatsServer(explicit?: string): string | null {
  const candidates = explicit ? [explicit] : [...(process.env.PATH ?? '').split(delimiter).map((d) => join(d, 'nats-server')), '/usr/sbin/nats-server'];
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // next candidate
    }
  }
  return null;
}

/**
 * The broker key every hub of the cluster shares (copy the file to each): read, or made on first start
 * (32 random bytes, 0600).
 */
export function loadOrCreateBrokerKey(path: string): Buffer {
  if (!existsSync(path)) writeSecret(path, randomBytes(32));
  const key = readFileSync(path);
  if (key.length < 32)
    throw new BrokerError('BROKER_NATS_CONFIG', `the broker key ${path} has ${key.length} bytes`, 'use 32 random bytes, the same file on every hub', {
      where: path,
    });
  return key;
}

/** Ports given as 0 replaced by free ones (a lab, tests). */
async function withPorts(spec: NatsNodeSpec): Promise<NatsNodeSpec> {
  const pick = async (p: number) => p || (await freePort());
  return {
    ...spec,
    mqttPort: await pick(spec.mqttPort),
    clientPort: await pick(spec.clientPort),
    httpPort: await pick(spec.httpPort),
    clusterPort: await pick(spec.clusterPort),
  };
}

/** Free loopback ports for an n-node cluster on this machine (tests, a lab). */
export async function localClusterSpecs(n: number, prefix = 'n'): Promise<NatsNodeSpec[]> {
  const specs: NatsNodeSpec[] = [];
  for (let i = 1; i <= n; i++) {
    specs.push({
      name: `${prefix}${i}`,
      mqttPort: await freePort(),
      clientPort: await freePort(),
      httpPort: await freePort(),
      clusterPort: await freePort(),
      routes: [],
    });
  }
  for (const s of specs) s.routes = specs.filter((o) => o !== s).map((o) => `127.0.0.1:${o.clusterPort}`);
  return specs;
}

/** The hub reaches a node listening on every address through loopback. */
function loopbackFor(host = '127.0.0.1'): string {
  return host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
}

function brokerMetrics(registry?: Registry) {
  return new Counter({
    name: 'weft_broker_permission_violations_total',
    help: 'Publishes and subscriptions a NATS node refused by the site grants (MQTT 3.1.1 cannot tell the client)',
    labelNames: ['kind', 'node'],
    registers: registry ? [registry] : [],
  });
}

export async function startNats(opts: NatsStartOptions): Promise<NatsBroker> {
  const log = opts.logger ?? pino({ level: 'silent' });
  const binary = findNatsServer(opts.binary);
  if (!binary)
    throw new BrokerError('BROKER_NATS_MISSING', 'nats-server binary not found', 'install the Debian package nats-server, or use the embedded broker');
  if (!opts.nodes.length) throw new BrokerError('BROKER_NATS_CONFIG', 'no NATS node to run', 'give at least one node (name and ports)');
  const key = opts.key;
  if (key.length < 32) throw new BrokerError('BROKER_NATS_CONFIG', `the broker key has ${key.length} bytes`, 'use 32 random bytes, the same file on every hub');
  const tls = Boolean(opts.tls);
  const hubPassword = servicePassword(key, 'hub');
  const routerPassword = servicePassword(key, 'router');
  const specs = await Promise.all(opts.nodes.map(withPorts));
  const kicked = new Set<string>();
  const violations = brokerMetrics(opts.registry);
  let violationCount = 0;
  const origin = randomBytes(8).toString('hex');
  const events = new EventEmitter();
  mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  // For weft-router processes: --broker-user _weft_router --broker-password-file <dir>/router-password.
  writeSecret(join(opts.dir, 'router-password'), `${routerPassword}\n`);

  const onViolation = (v: PermissionViolation) => {
    violationCount++;
    violations.inc({ kind: v.kind, node: v.node });
    log.warn({ node: v.node, user: v.user, kind: v.kind, subject: v.subject }, 'broker permission violation: refused by the site grants');
  };

  const nodes = specs.map((spec) => {
    const dir = join(opts.dir, spec.name);
    mkdirSync(join(dir, 'jetstream'), { recursive: true, mode: 0o700 });
    if (opts.tls) {
      writeSecret(join(dir, 'broker.key'), opts.tls.key);
      writeSecret(join(dir, 'broker.crt'), opts.tls.cert);
    }
    const host = spec.mqttHost ?? '127.0.0.1';
    const reach = loopbackFor(host);
    writeSecret(
      join(dir, 'nats.conf'),
      renderNodeConfig({
        name: spec.name,
        mqtt: { host, port: spec.mqttPort },
        clientPort: spec.clientPort,
        httpPort: spec.httpPort,
        cluster: {
          name: opts.clusterName ?? 'weft',
          host: spec.clusterHost ?? host,
          port: spec.clusterPort,
          routes: spec.routes,
          routePassword: servicePassword(key, 'route'),
        },
        storeDir: join(dir, 'jetstream'),
        authorizationFile: 'authorization.conf',
        maxPayloadBytes: opts.limits?.maxPacketBytes ?? 4 * 1024 * 1024,
        tls: opts.tls ? { certFile: join(dir, 'broker.crt'), keyFile: join(dir, 'broker.key') } : undefined,
      }),
    );
    const node = new NatsNode({
      name: spec.name,
      binary,
      conf: join(dir, 'nats.conf'),
      httpPort: spec.httpPort,
      log,
      restartDelayMs: opts.restartDelayMs ?? 1000,
      onViolation,
      onRestart: () => events.emit('restarted'),
    });
    return { spec, dir, node, url: brokerUrl(reach, spec.mqttPort, tls) };
  });

  const users = async (): Promise<NatsUser[]> => {
    const out: NatsUser[] = [hubUser(hubPassword), routerUser(routerPassword)];
    const live = new Set<string>();
    for (const c of await opts.credentials()) {
      // A site's password is derived from its id, a node's from its username (`<siteId>.<node>`, enroll-node.ts).
      const derivedFrom = c.node === undefined ? c.siteId : c.username;
      const password = kicked.has(c.siteId) || kicked.has(c.username) ? null : recoverSitePassword(key, derivedFrom, c.passwordHash);
      if (password === null && !kicked.has(c.siteId))
        log.warn({ siteId: c.siteId }, 'site credential not derived from this broker key (enrolled under another broker or key): it must re-enroll');
      out.push(password === null ? tombstoneUser(c.username, c.siteId, randomSecret(), c.node) : siteUser(c.username, c.siteId, password, c.node));
      live.add(c.username);
    }
    for (const r of await opts.revokedSites()) if (!live.has(r.username)) out.push(tombstoneUser(r.username, r.siteId, randomSecret()));
    return out;
  };

  const writeAuthorization = async () => {
    const text = renderAuthorization(await users());
    for (const n of nodes) writeSecret(join(n.dir, 'authorization.conf'), text);
  };

  let serial = Promise.resolve();
  /** Rewrites and reloads, one at a time: two syncs racing could reload an older file last. */
  const resync = () => {
    const run = serial.then(async () => {
      await writeAuthorization();
      await Promise.all(nodes.map((n) => n.node.reload()));
      log.info({ nodes: nodes.length }, 'nats: authorization written and reloaded');
    });
    serial = run.catch(() => undefined);
    return run;
  };

  await writeAuthorization();
  try {
    for (const n of nodes) n.node.spawn();
    await Promise.all(nodes.map((n) => n.node.ready(opts.readyTimeoutMs ?? 60_000)));
  } catch (e) {
    await Promise.all(nodes.map((n) => n.node.stop()));
    throw e;
  }

  const hubClients = new HubClients(() => ({
    host: loopbackFor(specs[0].mqttHost),
    port: specs[0].mqttPort,
    servers: specs.map((s) => ({ host: loopbackFor(s.mqttHost), port: s.mqttPort })),
    tlsCert: opts.tls?.cert,
    password: hubPassword,
  }));
  // Another hub changed the authorization (enrolled or revoked a site): re-read the store now.
  const listener = await hubClients.connect();
  listener.on('message', (topic, payload) => {
    if (topic !== AUTHZ_TOPIC || payload.toString() === origin) return;
    resync().catch((err: Error) => log.error({ err: err.message }, 'nats: authorization sync failed'));
  });
  await listener.subscribeAsync(AUTHZ_TOPIC, { qos: 1 });
  // Notices sent while this hub's link to the cluster was down are lost: catch up on every reconnect.
  listener.on('connect', () => {
    resync().catch((err: Error) => log.error({ err: err.message }, 'nats: authorization sync failed'));
  });
  const announce = () => listener.publishAsync(AUTHZ_TOPIC, origin, { qos: 1 }).then(() => undefined);

  const siteUrls = opts.siteUrls?.length ? opts.siteUrls : nodes.map((n) => n.url);
  log.info({ nodes: nodes.map((n) => ({ name: n.spec.name, url: n.url })), siteUrls }, 'broker: nats cluster nodes ready');

  return {
    kind: 'nats',
    port: specs[0].mqttPort,
    hosts: [specs[0].mqttHost ?? '127.0.0.1'],
    url: (host) => (host ? brokerUrl(host, specs[0].mqttPort, tls) : nodes[0].url),
    siteUrls: () => [...siteUrls],
    nodes: () => nodes.map((n) => ({ name: n.spec.name, pid: n.node.pid, url: n.url })),
    hubCredentials: { username: HUB_USERNAME, password: hubPassword },
    routerCredentials: { username: ROUTER_USERNAME, password: routerPassword },
    hubClient: () => hubClients.connect(),
    async kick(siteId) {
      kicked.add(siteId);
      await resync();
      await announce();
    },
    async sync() {
      await resync();
      await announce();
    },
    // NATS does not tell the hub about MQTT sessions; health relies on last wills and heartbeats.
    connectedSites: () => [],
    sessions: events,
    violations: () => violationCount,
    async close() {
      await hubClients.closeAll();
      await Promise.all(nodes.map((n) => n.node.stop()));
    },
  };
}
