// startRouter: the router as the hub runs it. Opens the geo database, subscribes to the SitesView,
// serves DNS on UDP and TCP off the caller's loop (dns-workers.ts: a thread, or one process per core;
// hub load cannot stall it), and
// exposes what the HTTP routes (http-routes.ts) need, answered on the hub's loop.
import pino from 'pino';
import { Counter, Registry } from 'prom-client';
import { resolveConfig, type RouterConfig, type RouterOptions } from './config.ts';
import type { DnsServerAddress } from './dns-server.ts';
import { DnsWorkers } from './dns-workers.ts';
import type { QueryCounts } from './dns-thread-protocol.ts';
import { RCODE, BADVERS } from './dns-wire.ts';
import { explain, type RouteExplanation } from './explain.ts';
import { parseIpBytes, SOCKET_ADDRESS } from '../base/index.ts';
import { openGeoDb } from './geo-db.ts';
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
  /** DNS workers serving that port: 1 thread, or that many processes. */
  readonly dnsWorkers: number;
  /** The HTTP redirect target for a client address. */
  redirect(service: string, ip: string): Redirect;
  /** The decision for a client, explained; null when ip is not an address. */
  explain(service: string, ip: string): RouteExplanation | null;
  close(): Promise<void>;
}

const RCODE_NAMES = new Map<number, string>([...Object.entries(RCODE).map(([k, v]) => [v, k] as [number, string]), [BADVERS, 'BADVERS']]);

export async function startRouter(opts: RouterOptions): Promise<Router> {
  const config = resolveConfig(opts);
  const log = (opts.logger ?? pino({ level: 'info' })).child({ part: 'router' });
  const registry = opts.registry ?? new Registry();
  const geoDb = config.geoDbPath ? await openGeoDb(config.geoDbPath) : undefined;
  const routing = new Routing(config, opts.sites, geoDb);

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
  const count = (c: QueryCounts) => {
    for (const transport of ['udp', 'tcp'] as const)
      for (const [rcode, n] of Object.entries(c[transport])) queries.labels(transport, RCODE_NAMES.get(Number(rcode)) ?? rcode).inc(n);
    misses.inc(c.misses);
    truncations.inc(c.truncated);
  };

  let server: DnsWorkers;
  try {
    server = await DnsWorkers.start(config, opts.sites, log, count);
  } catch (err) {
    routing.close();
    throw err;
  }
  log.info(
    { zone: config.zone, dns: server.address, dnsWorkers: server.size, geoDb: config.geoDbPath, noHealthySite: config.noHealthySite },
    'router listening',
  );
  // Resolvers find a name server inside the zone only through its glue: without addresses it is unreachable.
  for (const ns of config.nameservers)
    if ((ns.name === config.zone || ns.name.endsWith(`.${config.zone}`)) && ns.addresses.length === 0)
      log.warn(
        { nameserver: ns.name },
        'router: name server inside the zone has no addresses, so no glue: list every router with its addresses under nameservers',
      );

  const locateIp = (ip: string): ClientLocation | null => {
    const parsed = parseIpBytes(ip, SOCKET_ADDRESS);
    return parsed ? routing.locate(parsed, ip) : null;
  };
  const httpDecision = (service: string, loc: ClientLocation): Decision =>
    routing.decide(service, loc, (s) => (serviceOf(s, service)?.url ? null : 'no URL for this service'));

  return {
    config,
    dns: server.address,
    dnsWorkers: server.size,
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
      routing.close();
    },
  };
}
