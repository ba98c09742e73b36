// The router's live state: sites by service (from SitesView events, applied as they arrive), the
// locator, and decisions. It tells the answer caches what to forget through 'invalidate' events,
// emitted synchronously inside the SitesView event, so the very next query sees the change.
import { EventEmitter } from 'node:events';
import type { CityResponse, Reader } from 'maxmind';
import type { RoutableSite, SitesView } from './sites-view.ts';
import type { RouterConfig } from './config.ts';
import type { IpBytes } from '../base/index.ts';
import { Locator, type ClientLocation } from './locate.ts';
import { rankSites, rankState, type Decision } from './rank.ts';

/** Services whose answers may have changed; null: anything may have (names, locations). */
export type Invalidation = Set<string> | null;

function shape(s: RoutableSite): string {
  return JSON.stringify([s.lat, s.lon, s.clientCidrs, s.services.map((x) => x.name.toLowerCase()).sort()]);
}

export class Routing extends EventEmitter<{ invalidate: [Invalidation] }> {
  private readonly byId = new Map<string, RoutableSite>();
  private readonly shapes = new Map<string, string>();
  private readonly rankStates = new Map<string, string>();
  private byService: Map<string, RoutableSite[]> | null = null;
  readonly locator: Locator;
  private readonly onChange = (s: RoutableSite) => this.update(s);
  private readonly onRemoved = (id: string) => this.remove(id);

  constructor(
    readonly config: RouterConfig,
    private readonly sites: SitesView,
    geoDb?: Reader<CityResponse>,
  ) {
    super();
    this.locator = new Locator({ cidrMap: config.cidrMap, regions: config.regions, defaultLocation: config.defaultLocation, geoDb }, (id) => this.byId.get(id));
    for (const s of sites.list()) {
      this.byId.set(s.id, s);
      this.shapes.set(s.id, shape(s));
      this.rankStates.set(s.id, rankState(s, config.loadGranularity));
    }
    this.locator.syncSites(this.byId.values());
    sites.on('change', this.onChange);
    sites.on('removed', this.onRemoved);
  }

  close(): void {
    this.sites.off('change', this.onChange);
    this.sites.off('removed', this.onRemoved);
  }

  private update(s: RoutableSite): void {
    const before = this.shapes.get(s.id);
    const now = shape(s);
    const prev = this.byId.get(s.id);
    const rankBefore = this.rankStates.get(s.id);
    const rankNow = rankState(s, this.config.loadGranularity);
    this.byId.set(s.id, s);
    this.shapes.set(s.id, now);
    this.rankStates.set(s.id, rankNow);
    this.byService = null;
    if (before !== now) {
      // New services, moved sites or new client networks: names and locations may change meaning.
      this.locator.syncSites(this.byId.values());
      this.locator.invalidate();
      this.emit('invalidate', null);
      return;
    }
    // Same health, same load step: every answer stays as it was (a heartbeat's load jitter).
    if (rankBefore === rankNow && sameAddresses(prev, s)) return;
    this.emit('invalidate', new Set([...(prev?.services ?? []), ...s.services].map((x) => x.name.toLowerCase())));
  }

  private remove(id: string): void {
    if (!this.byId.delete(id)) return;
    this.shapes.delete(id);
    this.rankStates.delete(id);
    this.byService = null;
    this.locator.syncSites(this.byId.values());
    this.locator.invalidate();
    this.emit('invalidate', null);
  }

  private index(): Map<string, RoutableSite[]> {
    if (this.byService) return this.byService;
    const m = new Map<string, RoutableSite[]>();
    for (const s of this.byId.values()) {
      for (const svc of s.services) {
        const k = svc.name.toLowerCase();
        const list = m.get(k) ?? [];
        list.push(s);
        m.set(k, list);
      }
    }
    this.byService = m;
    return m;
  }

  hasService(service: string): boolean {
    return this.index().has(service);
  }

  site(id: string): RoutableSite | undefined {
    return this.byId.get(id);
  }

  locate(ip: IpBytes, key: string | number): ClientLocation {
    return this.locator.cached(key) ?? this.locator.locate(ip, key);
  }

  decide(service: string, loc: ClientLocation, usable?: (s: RoutableSite) => string | null): Decision {
    const sites = this.index().get(service) ?? [];
    return rankSites(service, sites, { point: loc.point, siteId: loc.siteId }, this.config, usable);
  }
}

function sameAddresses(a: RoutableSite | undefined, b: RoutableSite): boolean {
  return a !== undefined && JSON.stringify(a.services) === JSON.stringify(b.services);
}

/** The service's entry of a site (names compare case-insensitively, as DNS does). */
export function serviceOf(site: RoutableSite, service: string) {
  return site.services.find((x) => x.name.toLowerCase() === service);
}
