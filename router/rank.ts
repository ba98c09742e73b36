// Choosing sites for a client: pure, so every rule is a table test. Order of preference:
//   1. the site that owns the client's network (a store's own Wi-Fi), when it can serve;
//   2. online before degraded (draining and offline never, unless failing open);
//   3. sites with room before sites at or over capacity;
//   4. great-circle distance (rounded to a granularity, so sites in one city share load);
//   5. load / capacity (in steps of loadGranularity);
//   6. site id, so the answer is stable.
import type { RoutableSite, SiteHealth } from './sites-view.ts';
import { distanceKm, type LatLon } from './geo.ts';

export type NoHealthySite = 'fail-open' | 'fail-closed';

export interface RankOptions {
  /** How many sites to answer with (their addresses all go into one DNS answer). */
  answerSites: number;
  noHealthySite: NoHealthySite;
  /** Distances are compared after rounding down to this many km. */
  distanceGranularityKm: number;
  /** Load ratios are compared after rounding down to a multiple of this. */
  loadGranularity: number;
}

export interface RankFrom {
  /** Where the client is; null when unknown (no default configured): distance then plays no part. */
  point: LatLon | null;
  /** The site whose own client network the client is on, if any. */
  siteId?: string;
}

export interface Candidate {
  siteId: string;
  name: string;
  health: SiteHealth;
  distanceKm: number;
  load: number;
  capacity: number;
  /** load / capacity; Infinity for a site that reports no capacity but has load. */
  loadRatio: number;
  /** Why the site cannot be chosen; absent when it can. */
  excluded?: string;
  /** 1-based position among usable sites. */
  rank?: number;
}

export type Outcome = 'healthy' | 'fail-open' | 'fail-closed' | 'unknown-service';

export interface Decision {
  service: string;
  outcome: Outcome;
  /** Sites to answer with, best first. */
  chosen: RoutableSite[];
  /** Every site offering the service: usable ones in rank order, then excluded ones. */
  candidates: Candidate[];
  reason: string;
}

const TIER: Record<SiteHealth, number> = { online: 0, degraded: 1, draining: 2, offline: 3 };

function loadRatio(s: RoutableSite): number {
  if (s.capacity > 0) return s.load / s.capacity;
  return s.load > 0 ? Infinity : 0;
}

/**
 * What of a site's health and load the ranking looks at. Two states with the same rank state rank
 * alike, so the router keeps its cached answers when only this stays the same.
 */
export function rankState(s: RoutableSite, loadGranularity: number): string {
  const ratio = loadRatio(s);
  return `${s.health}|${ratio >= 1 ? 'full' : 'room'}|${loadStep(ratio, loadGranularity)}`;
}

function loadStep(ratio: number, granularity: number): number {
  return granularity > 0 ? Math.floor(ratio / granularity) : ratio;
}

interface Scored {
  site: RoutableSite;
  c: Candidate;
  key: number[];
}

function compare(a: Scored, b: Scored): number {
  for (let i = 0; i < a.key.length; i++) if (a.key[i] !== b.key[i]) return a.key[i] - b.key[i];
  return a.site.id < b.site.id ? -1 : a.site.id > b.site.id ? 1 : 0;
}

function score(site: RoutableSite, from: RankFrom, opts: RankOptions): Scored {
  const d = from.point ? distanceKm(from.point, site) : 0;
  const ratio = loadRatio(site);
  const c: Candidate = {
    siteId: site.id,
    name: site.name,
    health: site.health,
    distanceKm: Math.round(d * 10) / 10,
    load: site.load,
    capacity: site.capacity,
    loadRatio: ratio,
  };
  const g = opts.distanceGranularityKm > 0 ? Math.floor(d / opts.distanceGranularityKm) : d;
  const key = [site.id === from.siteId ? 0 : 1, TIER[site.health], ratio >= 1 ? 1 : 0, g, loadStep(ratio, opts.loadGranularity)];
  return { site, c, key };
}

/**
 * Ranks `sites` (those offering `service`) for a client at `from`. `usable` adds a requirement of the
 * caller (HTTP needs a URL); a site failing it is excluded with the returned reason.
 */
export function rankSites(
  service: string,
  sites: RoutableSite[],
  from: RankFrom,
  opts: RankOptions,
  usable: (s: RoutableSite) => string | null = () => null,
): Decision {
  if (sites.length === 0) return { service, outcome: 'unknown-service', chosen: [], candidates: [], reason: `no site offers service ${service}` };
  const scored = sites.map((s) => score(s, from, opts));
  const ok: Scored[] = [];
  const out: Scored[] = [];
  for (const s of scored) {
    const missing = usable(s.site);
    if (missing) s.c.excluded = missing;
    else if (s.site.health === 'offline' || s.site.health === 'draining') s.c.excluded = s.site.health;
    (s.c.excluded ? out : ok).push(s);
  }
  ok.sort(compare);
  out.sort(compare);
  ok.forEach((s, i) => (s.c.rank = i + 1));
  const candidates = [...ok, ...out].map((s) => s.c);
  if (ok.length > 0) {
    const chosen = ok.slice(0, opts.answerSites);
    return { service, outcome: 'healthy', chosen: chosen.map((s) => s.site), candidates, reason: explain(chosen[0], from, out.length) };
  }
  if (opts.noHealthySite === 'fail-closed') {
    return { service, outcome: 'fail-closed', chosen: [], candidates, reason: `no usable site for ${service} and the router fails closed` };
  }
  // Failing open: health is unknown or wrong (a hub cut off from every site sees them all offline),
  // so answer as if all were healthy, still nearest first; draining sites only when nothing else is left.
  const pool = out.filter((s) => !usable(s.site));
  const notDraining = pool.filter((s) => s.site.health !== 'draining');
  const chosen = (notDraining.length > 0 ? notDraining : pool).slice(0, opts.answerSites);
  if (chosen.length === 0) return { service, outcome: 'fail-closed', chosen: [], candidates, reason: `no site for ${service} can serve this request` };
  return {
    service,
    outcome: 'fail-open',
    chosen: chosen.map((s) => s.site),
    candidates,
    reason: `no healthy site for ${service}: failing open to the nearest site offering it (${chosen[0].site.id})`,
  };
}

function explain(best: Scored, from: RankFrom, excluded: number): string {
  const why =
    best.site.id === from.siteId
      ? "the client is on this site's own network"
      : from.point
        ? `nearest usable site (${best.c.distanceKm} km)`
        : 'client location unknown: least loaded usable site';
  const health = best.site.health === 'degraded' ? '; degraded, no online site available' : '';
  const full = best.c.loadRatio >= 1 ? '; at capacity (no nearer-ranked site has room)' : '';
  return `${best.site.id}: ${why}${health}${full}${excluded ? `; ${excluded} site(s) excluded` : ''}`;
}
