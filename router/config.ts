// Router options as the hub passes them, validated into a complete config with defaults.
// Bad options are RouterConfigErrors naming the option path and a hint, never a stack trace.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { SitesView } from './sites-view.ts';
import { validLatLon, type LatLon } from './geo.ts';
import { parseCidrBytes, parseIpBytes, SOCKET_ADDRESS, WeftError } from '../base/index.ts';
import type { CidrRoute } from './locate.ts';
import type { NoHealthySite } from './rank.ts';
import type { RrlConfig } from './rrl.ts';

export type RouterConfigErrorCode =
  | 'ROUTER_BAD_OPTION'
  | 'ROUTER_BAD_ZONE'
  | 'ROUTER_BAD_CIDR'
  | 'ROUTER_UNKNOWN_REGION'
  | 'ROUTER_BAD_LOCATION'
  | 'ROUTER_GEO_DB'
  | 'ROUTER_BAD_SITE';

/** Placed at `router.<path>` (hub options) or `<file>#<path>` (a router config file); formatError prints the place. */
export class RouterConfigError extends WeftError<RouterConfigErrorCode> {
  override readonly name = 'RouterConfigError';
  /** `file` names the router config file the option came from, if any. */
  constructor(
    code: RouterConfigErrorCode,
    readonly path: string,
    readonly detail: string,
    hint?: string,
    readonly file?: string,
  ) {
    super(code, detail, hint, { where: file ? `${file}${path ? `#${path}` : ''}` : `router.${path}` });
  }

  /** The same error, placed in a config file. */
  inFile(file: string): RouterConfigError {
    return new RouterConfigError(this.code, this.path, this.detail, this.hint, file);
  }
}

export interface NameserverOption {
  /** Host name of the name server; inside the zone it needs addresses (glue). */
  name: string;
  addresses?: string[];
}

export interface RouterOptions {
  sites: SitesView;
  /** The zone the router is authoritative for, e.g. `svc.example.com`. */
  zone: string;
  /**
   * workers: DNS server processes sharing the port, one per core with 0 (default 1: one thread in this
   * process). More than one: each is a process of its own fed the same ordered SitesView events.
   */
  dns?: { host?: string; port?: number; workers?: number };
  /** TTL of A/AAAA answers in seconds (default 10). */
  ttl?: number;
  /** How long resolvers cache "no such name" (SOA minimum; default: ttl). */
  negativeTtl?: number;
  /** How many sites to put in one answer (default 1). */
  answerSites?: number;
  nameservers?: NameserverOption[];
  /** SOA RNAME as a mail address or DNS name (default hostmaster.<zone>). */
  hostmaster?: string;
  cidrMap?: CidrRoute[];
  regions?: Record<string, LatLon>;
  /** A MaxMind-format (GeoLite2/GeoIP2 City) database. */
  geoDbPath?: string;
  /** Where clients are when nothing else locates them; absent: such clients go to the least loaded site. */
  defaultLocation?: LatLon;
  /** What to answer when no site offering a service is healthy (default fail-open). */
  noHealthySite?: NoHealthySite;
  /** Distances are compared rounded down to this many km, so nearby sites share load (default 1). */
  distanceGranularityKm?: number;
  /**
   * Load/capacity is compared in steps of this size (default 0.05), so a jittery load report does not
   * reorder sites, nor throw away cached DNS answers, on every heartbeat. 0: compare exactly.
   */
  loadGranularity?: number;
  /** The EDNS UDP payload size we advertise and accept up to (default 1232, the DNS Flag Day value). */
  udpPayloadSize?: number;
  /** What one client may cost the DNS server (docs/security.md); defaults in DNS_LIMITS. */
  limits?: DnsLimitsOptions;
  logger?: Logger;
  registry?: Registry;
}

/** Everything but the live parts: what a config file can say. */
export type RouterSettings = Omit<RouterOptions, 'sites' | 'logger' | 'registry'>;

export interface RouterConfig {
  zone: string;
  host: string;
  port: number;
  /** DNS server processes; 0: one per core; 1: a thread of this process. */
  workers: number;
  ttl: number;
  negativeTtl: number;
  answerSites: number;
  nameservers: { name: string; addresses: string[] }[];
  hostmaster: string;
  cidrMap: CidrRoute[];
  regions: Record<string, LatLon>;
  geoDbPath: string | null;
  defaultLocation: LatLon | null;
  noHealthySite: NoHealthySite;
  distanceGranularityKm: number;
  loadGranularity: number;
  udpPayloadSize: number;
  limits: DnsLimits;
}

export interface DnsLimits {
  /** Each TCP query must arrive whole within this long of the connection or the previous answer; slow bytes do not extend it. */
  tcpMessageDeadlineMs: number;
  tcpMaxConnections: number;
  /** Open TCP connections from one client address; the next one is closed at once. */
  tcpConnectionsPerAddress: number;
  /** UDP response rate limiting; null: off. */
  rrl: RrlConfig | null;
  /** Query names whose encoded answers are kept (least recently used go first). */
  answerCacheNames: number;
}

export type DnsLimitsOptions = Partial<Omit<DnsLimits, 'rrl'>> & { rrl?: Partial<RrlConfig> | false };

export const DNS_LIMITS: DnsLimits = {
  tcpMessageDeadlineMs: 10_000,
  tcpMaxConnections: 1_000,
  tcpConnectionsPerAddress: 16,
  rrl: { responsesPerSecond: 50, slip: 2, exempt: ['127.0.0.0/8', '::1/128'] },
  answerCacheNames: 50_000,
};

const LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;

export function validName(name: string): boolean {
  return name.length > 0 && name.length <= 253 && name.split('.').every((l) => LABEL.test(l));
}

function int(path: string, v: number | undefined, def: number, min: number, max: number): number {
  if (v === undefined) return def;
  if (!Number.isInteger(v) || v < min || v > max) throw new RouterConfigError('ROUTER_BAD_OPTION', path, `${v} is not an integer in [${min}, ${max}]`);
  return v;
}

export function resolveConfig(o: RouterSettings): RouterConfig {
  const zone = String(o.zone ?? '')
    .toLowerCase()
    .replace(/\.$/, '');
  if (!validName(zone)) throw new RouterConfigError('ROUTER_BAD_ZONE', 'zone', `"${o.zone}" is not a DNS name`, 'e.g. zone: svc.example.com');
  const ttl = int('ttl', o.ttl, 10, 0, 86_400);
  const regions = o.regions ?? {};
  for (const [name, p] of Object.entries(regions)) {
    if (!validLatLon(p)) throw new RouterConfigError('ROUTER_BAD_LOCATION', `regions.${name}`, 'needs lat in [-90, 90] and lon in [-180, 180]');
  }
  const cidrMap = o.cidrMap ?? [];
  cidrMap.forEach((r, i) => {
    if (!parseCidrBytes(r.cidr, { bare: true, ...SOCKET_ADDRESS }))
      throw new RouterConfigError('ROUTER_BAD_CIDR', `cidrMap[${i}].cidr`, `"${r.cidr}" is not a CIDR`, 'e.g. 10.20.0.0/16 or 2001:db8:42::/48');
    if (!r.site === !r.region) throw new RouterConfigError('ROUTER_BAD_OPTION', `cidrMap[${i}]`, 'needs exactly one of site or region');
    if (r.region && !regions[r.region])
      throw new RouterConfigError(
        'ROUTER_UNKNOWN_REGION',
        `cidrMap[${i}].region`,
        `region "${r.region}" is not configured`,
        `add it under regions: { ${r.region}: { lat, lon } }`,
      );
  });
  if (o.defaultLocation && !validLatLon(o.defaultLocation))
    throw new RouterConfigError('ROUTER_BAD_LOCATION', 'defaultLocation', 'needs lat in [-90, 90] and lon in [-180, 180]');
  const nameservers = (o.nameservers ?? [{ name: `ns1.${zone}` }]).map((ns, i) => {
    const name = ns.name.toLowerCase().replace(/\.$/, '');
    if (!validName(name)) throw new RouterConfigError('ROUTER_BAD_OPTION', `nameservers[${i}].name`, `"${ns.name}" is not a DNS name`);
    const addresses = ns.addresses ?? [];
    addresses.forEach((a, j) => {
      if (!parseIpBytes(a, SOCKET_ADDRESS))
        throw new RouterConfigError('ROUTER_BAD_OPTION', `nameservers[${i}].addresses[${j}]`, `"${a}" is not an IP address`);
    });
    return { name, addresses };
  });
  const noHealthySite = o.noHealthySite ?? 'fail-open';
  if (noHealthySite !== 'fail-open' && noHealthySite !== 'fail-closed')
    throw new RouterConfigError('ROUTER_BAD_OPTION', 'noHealthySite', `"${String(noHealthySite)}" is not fail-open or fail-closed`);
  const granularity = o.distanceGranularityKm ?? 1;
  if (!(granularity >= 0)) throw new RouterConfigError('ROUTER_BAD_OPTION', 'distanceGranularityKm', 'must be >= 0');
  const loadGranularity = o.loadGranularity ?? 0.05;
  if (!(loadGranularity >= 0 && loadGranularity <= 1))
    throw new RouterConfigError(
      'ROUTER_BAD_OPTION',
      'loadGranularity',
      `${loadGranularity} is not in [0, 1]`,
      'e.g. 0.05: loads within 5 % of capacity count as equal',
    );
  return {
    zone,
    host: o.dns?.host ?? '127.0.0.1',
    port: int('dns.port', o.dns?.port, 53, 0, 65_535),
    workers: int('dns.workers', o.dns?.workers, 1, 0, 256),
    ttl,
    negativeTtl: int('negativeTtl', o.negativeTtl, ttl, 0, 86_400),
    answerSites: int('answerSites', o.answerSites, 1, 1, 64),
    nameservers,
    hostmaster: (o.hostmaster ?? `hostmaster.${zone}`).replace('@', '.'),
    cidrMap,
    regions,
    geoDbPath: o.geoDbPath ?? null,
    defaultLocation: o.defaultLocation ?? null,
    noHealthySite,
    distanceGranularityKm: granularity,
    loadGranularity,
    udpPayloadSize: int('udpPayloadSize', o.udpPayloadSize, 1232, 512, 4096),
    limits: resolveLimits(o.limits ?? {}),
  };
}

function resolveLimits(o: DnsLimitsOptions): DnsLimits {
  const d = DNS_LIMITS;
  const rrl = o.rrl === false ? null : { ...(d.rrl as RrlConfig), ...o.rrl };
  if (rrl) {
    rrl.responsesPerSecond = int('limits.rrl.responsesPerSecond', rrl.responsesPerSecond, 50, 1, 1_000_000);
    rrl.slip = int('limits.rrl.slip', rrl.slip, 2, 0, 10);
    rrl.exempt.forEach((c, i) => {
      if (!parseCidrBytes(c, { bare: true, ...SOCKET_ADDRESS }))
        throw new RouterConfigError('ROUTER_BAD_CIDR', `limits.rrl.exempt[${i}]`, `"${c}" is not a CIDR`, 'e.g. 127.0.0.0/8');
    });
  }
  return {
    tcpMessageDeadlineMs: int('limits.tcpMessageDeadlineMs', o.tcpMessageDeadlineMs, d.tcpMessageDeadlineMs, 100, 600_000),
    tcpMaxConnections: int('limits.tcpMaxConnections', o.tcpMaxConnections, d.tcpMaxConnections, 1, 1_000_000),
    tcpConnectionsPerAddress: int('limits.tcpConnectionsPerAddress', o.tcpConnectionsPerAddress, d.tcpConnectionsPerAddress, 1, 1_000_000),
    rrl,
    answerCacheNames: int('limits.answerCacheNames', o.answerCacheNames, d.answerCacheNames, 1, 10_000_000),
  };
}
