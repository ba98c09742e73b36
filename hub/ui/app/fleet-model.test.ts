import { describe, expect, it } from 'vitest';
import { type ApiSite, countByState, type FleetFilter, filterRows, fleetRows, fleetState, narrows } from './fleet-model.ts';

const site = (id: string, patch: Partial<ApiSite> = {}, health: Partial<NonNullable<ApiSite['health']>> | null = {}): ApiSite => ({
  id,
  name: id,
  state: 'enrolled',
  drained: false,
  labels: {},
  lat: 0,
  lon: 0,
  generation: 1,
  policyVersion: 1,
  enrolledAt: 1,
  lastAck: null,
  health: health === null ? null : { health: 'online', kernelEnforcing: true, notEnforcing: null, reason: '', ...health },
  ...patch,
});

describe('fleetState', () => {
  it.each([
    ['online', site('a'), 'online'],
    ['degraded', site('a', {}, { health: 'degraded' }), 'degraded'],
    ['drained and alive', site('a', { drained: true }), 'draining'],
    ['offline wins over drained', site('a', { drained: true }, { health: 'offline' }), 'offline'],
    ['never heard from', site('a', {}, null), 'offline'],
    ['not enforcing in the kernel', site('a', {}, { kernelEnforcing: false }), 'not enforcing'],
    ['not enrolled yet', site('a', { state: 'pending' }, null), 'pending'],
  ])('%s', (_n, s, want) => expect(fleetState(s)).toBe(want));
});

describe('filterRows', () => {
  const rows = fleetRows([
    site('paris-1', { labels: { region: 'eu', tier: 'store' } }),
    site('berlin-2', { labels: { region: 'eu' }, drained: true }),
    site('nyc-3', { labels: { region: 'us', tier: 'store' } }, { health: 'offline' }),
  ]);
  const ids = (f: Parameters<typeof filterRows>[1]) => filterRows(rows, f).map((r) => r.site.id);

  it.each([
    ['everything', { text: '', state: '', label: '' }, ['paris-1', 'berlin-2', 'nyc-3']],
    ['label key=value', { text: '', state: '', label: 'region=eu' }, ['paris-1', 'berlin-2']],
    ['label key alone', { text: '', state: '', label: 'tier' }, ['paris-1', 'nyc-3']],
    ['state', { text: '', state: 'draining', label: '' }, ['berlin-2']],
    ['text, any case, over name and labels', { text: 'US', state: '', label: '' }, ['nyc-3']],
    ['all three', { text: 'paris', state: 'online', label: 'region=eu' }, ['paris-1']],
  ] as const)('%s', (_n, f, want) => expect(ids(f)).toEqual(want));

  it('counts by state', () => expect(countByState(rows)).toMatchObject({ online: 1, draining: 1, offline: 1, degraded: 0 }));
});

describe('narrows', () => {
  const f = (text: string, state: FleetFilter['state'] = '', label = ''): FleetFilter => ({ text, state, label });
  it.each([
    ['typing on', f('par'), f('Paris'), true],
    ['text around the old text', f('ri'), f('paris'), true],
    ['from nothing', f(''), f('p'), true],
    ['deleting a letter widens', f('paris'), f('pari'), false],
    ['other text', f('paris'), f('berlin'), false],
    ['state changed', f('p'), f('pa', 'online'), false],
    ['label changed', f('p', '', 'region=eu'), f('pa'), false],
  ] as const)('%s', (_n, prev, next, want) => expect(narrows(prev, next)).toBe(want));

  it('filters the previous result to what filtering everything gives', () => {
    const rows = fleetRows(['paris-1', 'paris-2', 'parma-3', 'berlin-4'].map((id) => site(id)));
    const prev = filterRows(rows, f('par'));
    expect(filterRows(prev, f('paris')).map((r) => r.site.id)).toEqual(filterRows(rows, f('paris')).map((r) => r.site.id));
  });

  it('gives the rows themselves, not a copy, when nothing filters (blank text counts as nothing)', () => {
    const rows = fleetRows(['paris-1', 'berlin-4'].map((id) => site(id)));
    expect(filterRows(rows, f('  '))).toBe(rows);
    expect(filterRows(rows, f('paris'))).not.toBe(rows);
  });
});
