// Hub configuration: defaults, and the command line of `node bin/run.mjs hub/main.ts`.
import { errorMessage, WeftError } from '../base/index.ts';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import type { BrokerLimits } from './broker/types.ts';
import type { NatsNodeSpec } from './broker/nats.ts';
import type { Peers } from './enroll/peers.ts';
import { loadRouterSettings, RouterConfigError, type RouterOptions } from '../router/index.ts';
import type { PublicLimits } from './server/public-limits.ts';
import type { RetentionCaps } from './store/types.ts';

export interface HubConfig {
  /** Store, keys, CA and the first admin token live here (created 0700). */
  dataDir: string;
  /**
   * The store: `sqlite:<path>` (the embedded default, `<dataDir>/hub.db` when absent) or a PostgreSQL
   * URL `postgres://user@host:port/db` (hubs past one machine share it; hub/store/open.ts).
   */
  store?: string;
  /** How often the mesh service looks at observed endpoints again (ms; default 2000). */
  meshRefreshMs?: number;
  /** HTTPS listener (sites and remote ops). 0 picks a free port. */
  httpsPort: number;
  httpsHost: string;
  /** Plain-HTTP listener on loopback only, for local tools; null disables it. */
  httpPort: number | null;
  /** Names and addresses in the server certificate besides localhost/127.0.0.1/::1. */
  tlsNames: string[];
  /** The hub's HTTPS URL as sites see it (goes into provisioning files). Default https://<first tls name or 127.0.0.1>:<port>. */
  publicUrl?: string;
  mqtt: {
    /**
     * The embedded aedes broker (default), a supervised Mosquitto fed from the store (password and ACL
     * files), or a NATS cluster node (JetStream + MQTT) fed from the store (`nats` below).
     */
    broker?: 'aedes' | 'mosquitto' | 'nats';
    /** Listen addresses of the embedded broker (loopback and the overlay address). */
    hosts: string[];
    port: number;
    /** Broker URL handed to sites at enrollment. Default mqtt://<hub overlay IPv4>:<port>. */
    siteUrl?: string;
    /** With NATS: every node's MQTT URL as sites reach it, handed to sites to fail over between (siteUrl first). */
    siteUrls?: string[];
    /** Packet size and per-address connection caps (hub/broker/types.ts BROKER_LIMITS). */
    limits?: Partial<BrokerLimits>;
  };
  /** The NATS node(s) this hub runs when mqtt.broker is 'nats' (hub/broker/nats.ts). */
  nats?: {
    /** The nodes this hub supervises: one in production (from --mqtt-host/--mqtt-port and --nats-*); ports 0 are picked free at start. */
    nodes: NatsNodeSpec[];
    /** The broker key shared by every hub of the cluster (32 bytes, 0600). Default <dataDir>/broker.key, created on first start. */
    keyFile?: string;
  };
  overlayV4: string;
  overlayV6: string;
  wireguard: {
    /** host:port sites dial. */
    endpoint: string;
    persistentKeepaliveS: number;
    mtu: number;
    /**
     * The hub's own WireGuard interface (tunnel/ HubTunnel: kernel or wireguard-go), created at start
     * with the hub's overlay addresses, key from <dataDir>/wireguard.key. Absent: no interface (a tunnel
     * made by the operator, or tests), unless `peers` is given.
     */
    ifname?: string;
    /** UDP port of that interface (default 51820). */
    listenPort?: number;
    /** The hub's WireGuard peers (tunnel/ HubTunnel) and its public key. Default: recorded in memory, key from <dataDir>/wireguard.key. */
    peers?: Peers;
    publicKey?: string;
  };
  /**
   * Past one hub machine: this hub node's name and the overlay index of its own address (a host of the
   * overlay prefix no site holds; pick them from the top, e.g. 65534, 65533, ... of a /16). The node
   * registers its WireGuard key, endpoint and address in the store; enrollment hands every registered
   * node to the site, whose tunnel keeps a peer to each (docs/ops.md).
   */
  node?: { name: string; overlayIndex: number };
  heartbeatIntervalS: number;
  /**
   * How long a node of a multi-node site may be down before rollout stages stop waiting for it
   * (hub/rollout/node-gate.ts). Default 300 s: longer than a k3s node's reboot.
   */
  nodeDownGraceS: number;
  /** The end-user router (DNS + /go redirects); off when absent. Its sites come from the hub. */
  router?: Omit<RouterOptions, 'sites' | 'logger' | 'registry'>;
  bodyLimitBytes: number;
  /** Body and rate limits of unauthenticated routes (hub/server/public-limits.ts); default PUBLIC_LIMITS. */
  publicLimits?: PublicLimits;
  keyRotation: { activationDelayMs: number; overlapMs: number };
  retention: RetentionCaps;
  rolloutTickMs: number;
  logLevel: string;
  now?: () => number;
}

export function defaultConfig(dataDir: string): HubConfig {
  return {
    dataDir,
    httpsPort: 8443,
    httpsHost: '0.0.0.0',
    httpPort: null,
    tlsNames: [],
    mqtt: { hosts: ['127.0.0.1'], port: 1883 },
    overlayV4: '10.99.0.0/16',
    overlayV6: 'fd00:99::/64',
    wireguard: { endpoint: '127.0.0.1:51820', persistentKeepaliveS: 25, mtu: 1420 },
    heartbeatIntervalS: 5,
    nodeDownGraceS: 300,
    bodyLimitBytes: 4 * 1024 * 1024,
    keyRotation: { activationDelayMs: 60_000, overlapMs: 7 * 24 * 3600_000 },
    retention: { maxRowsPerSite: 100_000, maxAgeMs: 30 * 24 * 3600_000 },
    rolloutTickMs: 1000,
    logLevel: 'info',
  };
}

export class ConfigError extends WeftError<'HUB_BAD_OPTION'> {
  override readonly name = 'ConfigError';
  constructor(message: string, hint?: string, opts: { cause?: unknown } = {}) {
    super('HUB_BAD_OPTION', message, hint, opts);
  }
}

function port(v: string | undefined, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(`--${name} ${v}: want a port number 0..65535`);
  return n;
}

export const USAGE = `usage: node bin/run.mjs hub/main.ts --data-dir <dir> [options]
  --https-port <n>        HTTPS API (default 8443; 0 picks one)
  --https-host <addr>     (default 0.0.0.0)
  --http-port <n>         plain HTTP on 127.0.0.1 for local tools (default off)
  --tls-name <name|ip>    extra server certificate name (repeatable)
  --public-url <url>      the hub URL sites use (default https://<first tls name>:<port>)
  --mqtt-port <n>         embedded broker port (default 1883; 0 picks one)
  --mqtt-host <addr>      broker listen address (repeatable; default 127.0.0.1)
  --broker aedes|mosquitto|nats  embedded broker (default), a supervised Mosquitto, or a supervised
                          NATS cluster node (JetStream + MQTT; docs/broker.md)
  --site-broker-url <url> broker URL given to sites (default mqtt://<hub overlay IPv4>:<port>); with
                          nats, repeat it for every node: sites fail over between them
  --nats-name <name>      this node's server name (default the host name)
  --nats-cluster-port <n> cluster listener (default 6222)
  --nats-cluster-host <a> its address (default the --mqtt-host)
  --nats-route <h:p>      another node's cluster listener (repeatable)
  --nats-client-port <n>  NATS protocol listener on 127.0.0.1 (default 4222)
  --nats-http-port <n>    monitor (/healthz) on 127.0.0.1 (default 8222)
  --nats-key-file <file>  broker key shared by every hub (default <data-dir>/broker.key, made on first start)
  --overlay-v4 <cidr>     (default 10.99.0.0/16)   --overlay-v6 <cidr> (default fd00:99::/64)
  --wg-endpoint <h:p>     WireGuard endpoint sites dial (default 127.0.0.1:<--wg-port>)
  --wg-ifname <name>      create the hub's WireGuard interface (kernel or wireguard-go) with the overlay addresses
  --wg-port <n>           its UDP port (default 51820)
  --zone <name>           run the router, authoritative for this DNS zone (e.g. svc.example.com)
  --dns-host <addr>       router DNS listen address (default 127.0.0.1)   --dns-port <n> (default 5353)
  --router-config <file>  router settings (YAML: zone, cidrMap, regions, geoDbPath, ttl, noHealthySite, ...;
                          see docs/router.md); --zone, --dns-host and --dns-port override it
  --store <spec>          sqlite:<path> (default: sqlite:<data-dir>/hub.db, one process) or
                          postgres://user[:password]@host[:port]/db (replicated hubs share it;
                          ?host=/run/postgresql for a unix socket)
  --node-name <name>      this hub node's name, past one machine (with --node-index)
  --node-index <n>        overlay index of this node's own address (e.g. 65534: 10.99.255.254); no site's
  --log-level <level>     (default info)`;

export function parseHubArgs(argv: string[]): HubConfig {
  let v;
  try {
    v = parseArgs({
      args: argv,
      strict: true,
      options: {
        'data-dir': { type: 'string' },
        'https-port': { type: 'string' },
        'https-host': { type: 'string' },
        'http-port': { type: 'string' },
        'tls-name': { type: 'string', multiple: true },
        'public-url': { type: 'string' },
        'mqtt-port': { type: 'string' },
        'mqtt-host': { type: 'string', multiple: true },
        'site-broker-url': { type: 'string', multiple: true },
        'nats-name': { type: 'string' },
        'nats-cluster-port': { type: 'string' },
        'nats-cluster-host': { type: 'string' },
        'nats-route': { type: 'string', multiple: true },
        'nats-client-port': { type: 'string' },
        'nats-http-port': { type: 'string' },
        'nats-key-file': { type: 'string' },
        'overlay-v4': { type: 'string' },
        'overlay-v6': { type: 'string' },
        'wg-endpoint': { type: 'string' },
        'wg-ifname': { type: 'string' },
        'wg-port': { type: 'string' },
        'log-level': { type: 'string' },
        store: { type: 'string' },
        zone: { type: 'string' },
        broker: { type: 'string' },
        'dns-host': { type: 'string' },
        'dns-port': { type: 'string' },
        'router-config': { type: 'string' },
        'node-name': { type: 'string' },
        'node-index': { type: 'string' },
      },
    }).values;
  } catch (e) {
    throw new ConfigError(errorMessage(e));
  }
  if (!v['data-dir']) throw new ConfigError('--data-dir is required');
  const c = defaultConfig(v['data-dir']);
  c.httpsPort = port(v['https-port'], 'https-port', c.httpsPort);
  c.httpsHost = v['https-host'] ?? c.httpsHost;
  c.httpPort = v['http-port'] !== undefined ? port(v['http-port'], 'http-port', 0) : null;
  c.tlsNames = v['tls-name'] ?? [];
  c.publicUrl = v['public-url'];
  if (v.broker !== undefined && v.broker !== 'aedes' && v.broker !== 'mosquitto' && v.broker !== 'nats')
    throw new ConfigError(`--broker ${v.broker}: want aedes, mosquitto or nats`);
  const siteUrls = v['site-broker-url'];
  c.mqtt = {
    broker: v.broker,
    hosts: v['mqtt-host'] ?? c.mqtt.hosts,
    port: port(v['mqtt-port'], 'mqtt-port', c.mqtt.port),
    siteUrl: siteUrls?.[0],
    ...(siteUrls && siteUrls.length > 1 ? { siteUrls } : {}),
  };
  if (v.broker === 'nats') {
    if (c.mqtt.hosts.length !== 1)
      throw new ConfigError('--broker nats listens on one --mqtt-host', 'give one address: 0.0.0.0 for every interface, or the overlay address');
    const name = v['nats-name'] ?? hostname().replace(/[^A-Za-z0-9._-]/g, '-');
    for (const r of v['nats-route'] ?? []) if (!/^[^\s:]+:\d{1,5}$/.test(r)) throw new ConfigError(`--nats-route ${r}: want host:port`);
    c.nats = {
      nodes: [
        {
          name,
          mqttHost: c.mqtt.hosts[0],
          mqttPort: c.mqtt.port,
          clientPort: port(v['nats-client-port'], 'nats-client-port', 4222),
          httpPort: port(v['nats-http-port'], 'nats-http-port', 8222),
          clusterPort: port(v['nats-cluster-port'], 'nats-cluster-port', 6222),
          ...(v['nats-cluster-host'] ? { clusterHost: v['nats-cluster-host'] } : {}),
          routes: v['nats-route'] ?? [],
        },
      ],
      keyFile: v['nats-key-file'],
    };
  } else if (Object.keys(v).some((k) => k.startsWith('nats-'))) throw new ConfigError('--nats-* options need --broker nats');
  c.overlayV4 = v['overlay-v4'] ?? c.overlayV4;
  c.overlayV6 = v['overlay-v6'] ?? c.overlayV6;
  c.wireguard.ifname = v['wg-ifname'];
  if (v['wg-port'] !== undefined) c.wireguard.listenPort = port(v['wg-port'], 'wg-port', 51820);
  // Without --wg-endpoint, sites dial the port the hub listens on (not always 51820); an explicit
  // endpoint wins (NAT or a forwarder may map another port).
  c.wireguard.endpoint = v['wg-endpoint'] ?? (c.wireguard.listenPort !== undefined ? `127.0.0.1:${c.wireguard.listenPort}` : c.wireguard.endpoint);
  c.logLevel = v['log-level'] ?? c.logLevel;
  if (v.store !== undefined) {
    if (!/^(sqlite:.+|postgres(ql)?:\/\/.+)$/.test(v.store)) throw new ConfigError(`--store ${v.store}: want sqlite:<path> or postgres://...`);
    c.store = v.store;
  }
  if (v['node-name'] !== undefined || v['node-index'] !== undefined) {
    const name = v['node-name'];
    const index = Number(v['node-index']);
    if (!name || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(name))
      throw new ConfigError(`--node-name ${name ?? ''}: want a name of a-z, 0-9 and -`, 'give --node-name and --node-index together');
    if (!Number.isInteger(index) || index < 2)
      throw new ConfigError(`--node-index ${v['node-index'] ?? ''}: want an overlay index of 2 or more`, 'e.g. 65534 for 10.99.255.254 in 10.99.0.0/16');
    c.node = { name, overlayIndex: index };
  }
  if (v['router-config']) {
    const dns = { ...(v['dns-host'] ? { host: v['dns-host'] } : {}), ...(v['dns-port'] ? { port: port(v['dns-port'], 'dns-port', 5353) } : {}) };
    try {
      const r = loadRouterSettings(v['router-config'], { ...(v.zone ? { zone: v.zone } : {}), dns });
      c.router = { ...r, dns: { host: r.dns?.host ?? '127.0.0.1', port: r.dns?.port ?? 5353 } };
    } catch (e) {
      if (e instanceof RouterConfigError) throw new ConfigError(`${e.where}: ${e.message}`, e.hint, { cause: e });
      throw e;
    }
  } else if (v.zone) c.router = { zone: v.zone, dns: { host: v['dns-host'] ?? '127.0.0.1', port: port(v['dns-port'], 'dns-port', 5353) } };
  return c;
}
