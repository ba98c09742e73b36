import { describe, expect, it } from 'vitest';
import { rankSites, type RankOptions } from './rank.ts';
import { distanceKm } from './geo.ts';
import { site } from './testing/memory-sites-view.ts';
import { CITIES } from './testing/fixture.ts';

const opts: RankOptions = { answerSites: 1, noHealthySite: 'fail-open', distanceGranularityKm: 1, loadGranularity: 0.05 };
const pos = [{ name: 'pos', addresses: ['192.0.2.1'] }];
const at = (id: keyof typeof CITIES, patch = {}) => site(id, CITIES[id].lat, CITIES[id].lon, { services: pos, ...patch });
const fromParis = { point: CITIES.paris };
const ids = (d: ReturnType<typeof rankSites>) => d.chosen.map((s) => s.id);

describe('great-circle distance', () => {
  it('Paris-Berlin is about 878 km; a point to itself is 0', () => {
    expect(distanceKm(CITIES.paris, CITIES.berlin)).toBeCloseTo(878, -1);
    expect(distanceKm(CITIES.nyc, CITIES.nyc)).toBe(0);
  });
});

describe('rankSites', () => {
  it.each([
    ['nearest online site wins', [at('berlin'), at('lyon'), at('madrid')], fromParis, opts, ['lyon']],
    ['offline and draining are left out', [at('lyon', { health: 'offline' }), at('berlin', { health: 'draining' }), at('madrid')], fromParis, opts, ['madrid']],
    ['online beats a nearer degraded site', [at('lyon', { health: 'degraded' }), at('berlin')], fromParis, opts, ['berlin']],
    ['degraded still serves when nothing is online', [at('lyon', { health: 'degraded' }), at('berlin', { health: 'offline' })], fromParis, opts, ['lyon']],
    ['a site with room beats a nearer full one', [at('lyon', { load: 100, capacity: 100 }), at('berlin', { load: 10 })], fromParis, opts, ['berlin']],
    [
      'equal distance: lower load/capacity, then site id',
      [site('b', 0, 0, { services: pos, load: 50 }), site('a', 0, 0, { services: pos, load: 50 }), site('c', 0, 0, { services: pos, load: 10 })],
      { point: { lat: 0, lon: 0 } },
      { ...opts, answerSites: 3 },
      ['c', 'a', 'b'],
    ],
    [
      'loads within one step (5 %) count as equal: site id decides',
      [site('b', 0, 0, { services: pos, load: 41 }), site('a', 0, 0, { services: pos, load: 44 })],
      { point: { lat: 0, lon: 0 } },
      opts,
      ['a'],
    ],
    [
      'loads compared exactly with loadGranularity 0',
      [site('b', 0, 0, { services: pos, load: 41 }), site('a', 0, 0, { services: pos, load: 44 })],
      { point: { lat: 0, lon: 0 } },
      { ...opts, loadGranularity: 0 },
      ['b'],
    ],
    ["the client's own site first, even if farther", [at('lyon'), at('berlin')], { point: CITIES.paris, siteId: 'berlin' }, opts, ['berlin']],
    ['best k sites', [at('berlin'), at('lyon'), at('madrid'), at('nyc')], fromParis, { ...opts, answerSites: 2 }, ['lyon', 'berlin']],
    ['unknown location: least loaded', [at('lyon', { load: 50 }), at('nyc', { load: 5 })], { point: null }, opts, ['nyc']],
    [
      'fail-open: nearest site offering the service, draining only as a last resort',
      [at('lyon', { health: 'draining' }), at('berlin', { health: 'offline' })],
      fromParis,
      opts,
      ['berlin'],
    ],
    ['fail-closed: nothing', [at('lyon', { health: 'offline' })], fromParis, { ...opts, noHealthySite: 'fail-closed' as const }, []],
  ])('%s', (_name, sites, from, o, want) => expect(ids(rankSites('pos', sites, from, o))).toEqual(want));

  it('reports outcome and reasons', () => {
    expect(rankSites('pos', [], fromParis, opts).outcome).toBe('unknown-service');
    const open = rankSites('pos', [at('lyon', { health: 'offline' })], fromParis, opts);
    expect(open.outcome).toBe('fail-open');
    expect(rankSites('pos', [at('lyon', { health: 'offline' })], fromParis, { ...opts, noHealthySite: 'fail-closed' }).outcome).toBe('fail-closed');
    const d = rankSites('pos', [at('lyon'), at('berlin', { health: 'offline' })], fromParis, opts, (s) => (s.id === 'lyon' ? null : 'no URL'));
    expect(d.candidates.map((c) => [c.siteId, c.rank, c.excluded])).toEqual([
      ['lyon', 1, undefined],
      ['berlin', undefined, 'no URL'],
    ]);
  });

  it('a requirement the caller adds (HTTP needs a URL) also limits failing open', () => {
    const d = rankSites('pos', [at('lyon', { health: 'offline' })], fromParis, opts, () => 'no URL');
    expect(d.outcome).toBe('fail-closed');
  });
});
