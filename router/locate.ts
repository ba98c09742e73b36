// Where is the client? In order: the ops-configured CIDR map and the sites' own client networks
// (longest prefix wins), then the MaxMind-format geo database, then the configured default.
// Each answer carries a cache bucket (clients in one bucket get the same sites) and the ECS scope.
import type { CityResponse, Reader } from 'maxmind';
import type { RoutableSite } from './sites-view.ts';
import { CidrTrie } from './cidr-trie.ts';
import { formatIpBytes, maskBytes, parseCidrBytes, type IpBytes, SOCKET_ADDRESS } from '../base/index.ts';
import type { LatLon } from './geo.ts';

export interface CidrRoute {
  cidr: string;
  /** Clients here belong to this site (preferred when it can serve). */
  site?: string;
  /** Clients here are located at this configured region. */
  region?: string;
}

export type LocateMethod = 'cidr-site' | 'cidr-region' | 'geo-db' | 'default';

export interface ClientLocation {
  method: LocateMethod;
  /** Null when nothing located the client and no default is configured. */
  point: LatLon | null;
  /** Clients with equal buckets get equal answers: the answer cache key. */
  bucket: string;
  /** RFC 7871 scope: leading bits of the client address this location holds for. */
  scope: number;
  siteId?: string;
  region?: string;
  /** The matched network (CIDR map entry or geo database network). */
  network?: string;
  /** A city or country name from the geo database, for ops. */
  place?: string;
}

type Target = { kind: 'site'; id: string; cidr: string } | { kind: 'region'; name: string; cidr: string };

export interface LocatorConfig {
  cidrMap: CidrRoute[];
  regions: Record<string, LatLon>;
  defaultLocation: LatLon | null;
  geoDb?: Reader<CityResponse>;
}

const CACHE_LIMIT = 100_000;

export class Locator {
  private trie = new CidrTrie<Target>();
  private cache = new Map<string | number, ClientLocation>();
  private siteCidrs: string | null = null;

  constructor(
    private readonly config: LocatorConfig,
    private readonly site: (id: string) => RoutableSite | undefined,
  ) {}

  /** Rebuilds the CIDR map when the sites' own client networks changed; cheap to call on every change. */
  syncSites(sites: Iterable<RoutableSite>): void {
    const entries: [string, string][] = [];
    for (const s of sites) for (const c of s.clientCidrs) entries.push([c, s.id]);
    entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1));
    const sig = entries.map((e) => e.join('=')).join(',');
    if (sig === this.siteCidrs) return;
    this.siteCidrs = sig;
    const trie = new CidrTrie<Target>();
    for (const [c, id] of entries) {
      const cidr = parseCidrBytes(c, { bare: true, ...SOCKET_ADDRESS });
      if (cidr) trie.insert(cidr, { kind: 'site', id, cidr: c });
    }
    // Ops' map goes in last: for the very same network, ops' word wins over a site's report.
    for (const r of this.config.cidrMap) {
      const cidr = parseCidrBytes(r.cidr, { bare: true, ...SOCKET_ADDRESS });
      if (!cidr) continue;
      trie.insert(cidr, r.site ? { kind: 'site', id: r.site, cidr: r.cidr } : { kind: 'region', name: r.region ?? '', cidr: r.cidr });
    }
    this.trie = trie;
    this.cache.clear();
  }

  /** Forgets cached locations (a site moved: its bucket's coordinates changed). */
  invalidate(): void {
    this.cache.clear();
  }

  /** The cached location for a client key, if any: lets the hot path skip parsing the address. */
  cached(key: string | number): ClientLocation | undefined {
    return this.cache.get(key);
  }

  /**
   * Locates `ip` (already masked to the ECS source prefix, if any). `key` identifies the query's
   * client information (address and source prefix) for the cache; callers check cached() first.
   */
  locate(ip: IpBytes, key: string | number): ClientLocation {
    const loc = this.resolve(ip);
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(key, loc);
    return loc;
  }

  private resolve(ip: IpBytes): ClientLocation {
    const { match, scope: cidrScope } = this.trie.lookup(ip);
    if (match) {
      const t = match.value;
      if (t.kind === 'site') {
        const s = this.site(t.id);
        if (s) return { method: 'cidr-site', point: { lat: s.lat, lon: s.lon }, bucket: `site:${s.id}`, scope: cidrScope, siteId: s.id, network: t.cidr };
      } else {
        const r = this.config.regions[t.name];
        if (r) return { method: 'cidr-region', point: r, bucket: `region:${t.name}`, scope: cidrScope, region: t.name, network: t.cidr };
      }
    }
    // Past the CIDR map, the answer depends on both "no (usable) map entry" and the geo lookup,
    // so the scope is the longer of the two.
    if (this.config.geoDb) {
      const [rec, geoPrefix] = this.config.geoDb.getWithPrefixLength(formatIpBytes(ip));
      const scope = Math.max(cidrScope, geoPrefix);
      const l = rec?.location;
      if (l && typeof l.latitude === 'number' && typeof l.longitude === 'number') {
        const network = `${formatIpBytes({ family: ip.family, bytes: maskBytes(ip.bytes, geoPrefix) })}/${geoPrefix}`;
        const place = rec.city?.names?.en ?? rec.country?.names?.en ?? rec.country?.iso_code;
        return { method: 'geo-db', point: { lat: l.latitude, lon: l.longitude }, bucket: `geo:${l.latitude},${l.longitude}`, scope, network, place };
      }
      return this.fallback(scope);
    }
    return this.fallback(cidrScope);
  }

  private fallback(scope: number): ClientLocation {
    return { method: 'default', point: this.config.defaultLocation, bucket: 'default', scope };
  }
}
