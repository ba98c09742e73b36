// The router's SitesView: site records from the hub store joined with live health and load.
// Health events are applied the moment the model emits them; store changes arrive one site at a time
// (upsert/remove, O(1) per change even with 10k sites) or all at once (refresh).
import { EventEmitter } from 'node:events';
import type { RoutableSite, SiteService } from '../sites-view.ts';
import type { NodeHealth } from './types.ts';
import type { HealthModel, RecordSitesView, SiteHealthState, SiteRecord, SitesViewOptions } from './types.ts';

function sameRecord(a: SiteRecord, b: SiteRecord): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The services a site offers now: a service with per-node addresses answers with the nodes that are up
 * and serve it, and is not offered while none does (users go to another site).
 */
export function liveServices(services: SiteService[], nodes: NodeHealth[] | undefined): SiteService[] {
  if (!nodes) return services;
  const out: SiteService[] = [];
  for (const svc of services) {
    if (!svc.nodeAddresses) {
      out.push(svc);
      continue;
    }
    const serving = nodes.filter((n) => n.health !== 'offline' && (n.serves === null || n.serves.includes(svc.name)));
    const addresses = serving.flatMap((n) => svc.nodeAddresses?.[n.name] ?? []);
    if (addresses.length) out.push({ ...svc, addresses });
  }
  return out;
}

class View extends EventEmitter implements RecordSitesView {
  private readonly records = new Map<string, SiteRecord>();
  private readonly sites = new Map<string, RoutableSite>();
  private readonly onUpdate = (s: SiteHealthState) => this.applyHealth(s);

  constructor(
    private readonly listSites: () => SiteRecord[],
    private readonly health: HealthModel,
    private readonly now: () => number,
  ) {
    super();
    this.setMaxListeners(0);
    health.on('update', this.onUpdate);
    this.refresh();
  }

  list(): RoutableSite[] {
    return [...this.sites.values()];
  }

  get(id: string): RoutableSite | undefined {
    return this.sites.get(id);
  }

  refresh(): void {
    const seen = new Set<string>();
    for (const rec of this.listSites()) {
      seen.add(rec.id);
      this.upsert(rec);
    }
    for (const id of [...this.records.keys()]) if (!seen.has(id)) this.remove(id);
  }

  upsert(rec: SiteRecord): void {
    const old = this.records.get(rec.id);
    this.records.set(rec.id, rec);
    const h = this.health.get(rec.id);
    // The drain flag lives in the store; the model turns it into the 'draining' state.
    if ((h?.draining ?? false) !== rec.draining) this.health.apply(rec.id, { type: 'drain', draining: rec.draining, at: this.now() });
    if (!old || !sameRecord(old, rec)) this.publish(rec, this.health.get(rec.id));
  }

  remove(id: string): void {
    const known = this.records.delete(id);
    this.sites.delete(id);
    this.health.remove(id);
    if (known) this.emit('removed', id);
  }

  close(): void {
    this.health.off('update', this.onUpdate);
  }

  private applyHealth(s: SiteHealthState): void {
    const rec = this.records.get(s.siteId);
    if (!rec) return; // heartbeats of a site the store does not know (revoked): not routable
    const cur = this.sites.get(s.siteId);
    if (
      cur &&
      cur.health === s.health &&
      cur.load === s.load * rec.capacity &&
      (!s.nodes || JSON.stringify(cur.services) === JSON.stringify(liveServices(rec.services, s.nodes)))
    )
      return;
    this.publish(rec, s);
  }

  private publish(rec: SiteRecord, h: SiteHealthState | undefined): void {
    const site: RoutableSite = {
      id: rec.id,
      name: rec.name,
      labels: rec.labels,
      lat: rec.lat,
      lon: rec.lon,
      clientCidrs: rec.clientCidrs,
      capacity: rec.capacity,
      services: liveServices(rec.services, h?.nodes),
      // Heartbeats report load as a fraction; the router compares it with capacity in the same unit.
      load: (h?.load ?? 0) * rec.capacity,
      health: h?.health ?? 'offline',
    };
    this.sites.set(rec.id, site);
    this.emit('change', site);
  }
}

/** Builds the SitesView the router consumes; call refresh() after site changes in the store. */
export function createSitesView(opts: SitesViewOptions): RecordSitesView {
  return new View(opts.listSites, opts.health, opts.now ?? Date.now);
}
