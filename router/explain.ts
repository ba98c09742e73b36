// The decision for one client and service, spelled out for ops (GET /v1/route) and used by the
// HTTP redirect: where the client was located and how, every candidate, the one chosen and why.
import type { RoutableSite } from './sites-view.ts';
import type { ClientLocation, LocateMethod } from './locate.ts';
import type { Decision, Outcome } from './rank.ts';
import { serviceOf } from './routing.ts';

export interface ExplainedCandidate {
  siteId: string;
  name: string;
  health: string;
  distanceKm: number | null;
  load: number;
  capacity: number;
  /** null when the site reports load but no capacity. */
  loadRatio: number | null;
  rank: number | null;
  excluded: string | null;
}

export interface RouteExplanation {
  service: string;
  client: {
    ip: string;
    method: LocateMethod;
    how: string;
    network: string | null;
    lat: number | null;
    lon: number | null;
  };
  outcome: Outcome;
  reason: string;
  chosen: { siteId: string; name: string; addresses: string[]; url: string | null }[];
  candidates: ExplainedCandidate[];
}

function how(loc: ClientLocation): string {
  switch (loc.method) {
    case 'cidr-site':
      return `CIDR map: ${loc.network} is site ${loc.siteId}'s client network`;
    case 'cidr-region':
      return `CIDR map: ${loc.network} is in region ${loc.region}`;
    case 'geo-db':
      return `geo database: ${loc.network}${loc.place ? ` (${loc.place})` : ''}`;
    case 'default':
      return loc.point
        ? 'not in the CIDR map or geo database: default location'
        : 'not in the CIDR map or geo database, and no default location: ranked by load only';
  }
}

export function explain(ip: string, loc: ClientLocation, d: Decision): RouteExplanation {
  const chosen = (s: RoutableSite) => {
    const svc = serviceOf(s, d.service);
    return { siteId: s.id, name: s.name, addresses: svc?.addresses ?? [], url: svc?.url ?? null };
  };
  return {
    service: d.service,
    client: { ip, method: loc.method, how: how(loc), network: loc.network ?? null, lat: loc.point?.lat ?? null, lon: loc.point?.lon ?? null },
    outcome: d.outcome,
    reason: d.reason,
    chosen: d.chosen.map(chosen),
    candidates: d.candidates.map((c) => ({
      siteId: c.siteId,
      name: c.name,
      health: c.health,
      distanceKm: loc.point ? c.distanceKm : null,
      load: c.load,
      capacity: c.capacity,
      loadRatio: Number.isFinite(c.loadRatio) ? Math.round(c.loadRatio * 1000) / 1000 : null,
      rank: c.rank ?? null,
      excluded: c.excluded ?? null,
    })),
  };
}
