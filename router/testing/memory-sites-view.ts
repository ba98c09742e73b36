// An in-memory SitesView for the router's tests and benchmark: the real one is the hub's health
// model (router/health/), which emits the same events. Changes are applied and emitted synchronously.
import { EventEmitter } from 'node:events';
import type { RoutableSite, SiteHealth, SitesView } from '../sites-view.ts';

export class MemorySitesView extends EventEmitter implements SitesView {
  private readonly sites = new Map<string, RoutableSite>();

  constructor(initial: RoutableSite[] = []) {
    super();
    for (const s of initial) this.sites.set(s.id, s);
  }

  list(): RoutableSite[] {
    return [...this.sites.values()];
  }

  get(id: string): RoutableSite | undefined {
    return this.sites.get(id);
  }

  /** Adds or replaces a site and emits 'change'. */
  put(site: RoutableSite): void {
    this.sites.set(site.id, site);
    this.emit('change', site);
  }

  /** Applies a partial update (health, load, ...) and emits 'change' with the new record. */
  update(id: string, patch: Partial<Omit<RoutableSite, 'id'>>): RoutableSite {
    const cur = this.sites.get(id);
    if (!cur) throw new Error(`no site ${id}`);
    const next = { ...cur, ...patch };
    this.put(next);
    return next;
  }

  setHealth(id: string, health: SiteHealth): RoutableSite {
    return this.update(id, { health });
  }

  remove(id: string): void {
    if (this.sites.delete(id)) this.emit('removed', id);
  }
}

/** A site record with defaults, for tables of test sites. */
export function site(id: string, lat: number, lon: number, patch: Partial<RoutableSite> = {}): RoutableSite {
  return {
    id,
    name: id,
    labels: {},
    lat,
    lon,
    clientCidrs: [],
    capacity: 100,
    load: 0,
    health: 'online',
    services: [],
    ...patch,
  };
}
