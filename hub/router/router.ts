// startRouter: the router as the hub runs it. Opens the geo database, subscribes to the SitesView,
// serves DNS on UDP and TCP, and exposes what the HTTP routes (http-routes.ts) need.
import maxmind, { type CityResponse, type Reader } from 'maxmind';
import pino from 'pino';
import { Counter, Registry } from 'prom-client';
import { resolveConfig, RouterConfigError, type RouterConfig, type RouterOptions } from './config.ts';
import { DnsResolver, type Transport } from './dns-resolver.ts';
import { DnsServer, type DnsServerAddress } from './dns-server.ts';
import { RCODE, BADVERS } from './dns-wire.ts';
import { explain, type RouteExplanation } from './explain.ts';
import { parseIpBytes, SOCKET_ADDRESS, errorMessage } from '../../base/index.ts';
import type { ClientLocation } from './locate.ts';
import type { Decision } from './rank.ts';
import { Routing, serviceOf } from './routing.ts';

export type Redirect =
  | { kind: 'redirect'; url: string; siteId: string; outcome: 'healthy' | 'fail-open' }
  | { kind: 'unknown' }
  | { kind: 'unavailable'; reason: string };

export interface Router {
  readonly config: RouterConfig;
  /** Where DNS listens (UDP and TCP). */
  readonly dns: DnsServerAddress;
  /** The HTTP redirect target for a client address. */
  redirect(service: string, ip: string): Redirect;
  /** The decision for a client, explained; null when ip is not an address. */
  explain(service: string, ip: string): RouteExplanation | null;
  close(): Promise<void>;
}

const RCODE_NAMES = new Map<number, string>([...Object.entries(RCODE).map(([k, v]) => [v, k] as [number, string]), [BADVERS, 'BADVERS']]);

async function openGeoDb(path: string): Promise<Reader<CityResponse>> {
  try {
    return await maxmind.open<CityResponse>(path, { watchForUpdates: false });
  } catch (err) {
    throw new RouterConfigError(
      'ROUTER_GEO_DB',
      'geoDbPath',
      `cannot open ${path}: ${errorMessage(err)}`,
      'a MaxMind-format City database (GeoLite2-City.mmdb or compatible)',
    );
  }
}

export async function startRouter(opts: RouterOptions): Promise<Router> {
  const config = resolveConfig(opts);
  const log = (opts.logger ?? pino({ level: 'info' })).child({ part: 'router' });
  const registry = opts.registry ?? new Registry();
  const geoDb = config.geoDbPath ? await openGeoDb(config.geoDbPath) : undefined;
  const routing = new Routing(config, opts.sites, geoDb);
  const resolver = new DnsResolver(routing);

  const queries = new Counter({
    name: 'weft_router_dns_queries_total',
    help: 'DNS queries answered, by transport and rcode',
    labelNames: ['transport', 'rcode'],
    registers: [registry],
  });
  const misses = new Counter({ name: 'weft_router_dns_cache_misses_total', help: 'DNS queries that had to build their answer', registers: [registry] });
  const truncations = new Counter({ name: 'weft_router_dns_truncated_total', help: 'UDP answers truncated (client retries over TCP)', registers: [registry] });
  const redirects = new Counter({
    name: 'weft_router_http_redirects_total',
    help: 'HTTP /go requests, by outcome',
    labelNames: ['outcome'],
    registers: [registry],
  });
  // Bound children by transport and rcode: the query path then costs one increment, not a label lookup.
  const bound: Record<Transport, Counter.Internal[]> = { udp: [], tcp: [] };
  const count = (transport: Transport) => {
    const { rcode, cached, truncated } = resolver.last;
    const c = bound[transport][rcode] ?? (bound[transport][rcode] = queries.labels(transport, RCODE_NAMES.get(rcode) ?? String(rcode)));
    c.inc();
    if (!cached) misses.inc();
    if (truncated) truncations.inc();
  };

  let server: DnsServer;
  try {
    server = await DnsServer.start(resolver, config.host, config.port, log, count);
  } catch (err) {
    resolver.close();
    routing.close();
    throw err;
  }
  log.info({ zone: config.zone, dns: server.address, geoDb: config.geoDbPath, noHealthySite: config.noHealthySite }, 'router listening');

  const locateIp = (ip: string): ClientLocation | null => {
    const parsed = parseIpBytes(ip, SOCKET_ADDRESS);
    return parsed ? routing.locate(parsed, ip) : null;
  };
  const httpDecision = (service: string, loc: ClientLocation): Decision =>
    routing.decide(service, loc, (s) => (serviceOf(s, service)?.url ? null : 'no URL for this service'));

  return {
    config,
    dns: server.address,
    redirect(service, ip) {
      const loc = locateIp(ip) ?? routing.locate({ family: 4, bytes: new Uint8Array(4) }, 'unknown');
      const d = httpDecision(service, loc);
      redirects.labels(d.outcome).inc();
      if (d.outcome === 'unknown-service') return { kind: 'unknown' };
      const site = d.chosen[0];
      if (d.outcome === 'fail-closed' || !site) return { kind: 'unavailable', reason: d.reason };
      return { kind: 'redirect', url: serviceOf(site, service)?.url as string, siteId: site.id, outcome: d.outcome };
    },
    explain(service, ip) {
      const loc = locateIp(ip);
      return loc ? explain(ip, loc, httpDecision(service, loc)) : null;
    },
    async close() {
      await server.close();
      resolver.close();
      routing.close();
    },
  };
}
