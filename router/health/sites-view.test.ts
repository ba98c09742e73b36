// The router's SitesView: store records joined with live health, change events applied at once.
import { describe, expect, it } from 'vitest';
import type { HeartbeatMessage } from '../../protocol/index.ts';
import type { RoutableSite } from '../sites-view.ts';
import { createHealthModel } from './model.ts';
import { createSitesView } from './sites-view.ts';
import type { SiteRecord } from './types.ts';

const record = (id: string, over: Partial<SiteRecord> = {}): SiteRecord => ({
  id,
  name: `Store ${id}`,
  labels: { region: 'eu' },
  lat: 48.1,
  lon: 11.6,
  clientCidrs: ['10.1.0.0/16'],
  capacity: 200,
  services: [{ name: 'pos', addresses: ['192.0.2.10'] }],
  draining: false,
  ...over,
});
const hb = (load: number, ok = true): HeartbeatMessage => ({
  v: 1,
  at: '2026-01-01T00:00:00Z',
  nodeReady: true,
  enforcing: true,
  appliedGeneration: 1,
  checks: [{ name: 'pos', ok }],
  load,
  link: { reconnects: 0, outboxDepth: 0, outboxLost: 0 },
});

function setup(records: SiteRecord[]) {
  let store = records;
  const health = createHealthModel();
  let t = 1000;
  const view = createSitesView({ listSites: () => store, health, now: () => t });
  const changes: RoutableSite[] = [];
  const removed: string[] = [];
  view.on('change', (s: RoutableSite) => changes.push(s));
  view.on('removed', (id: string) => removed.push(id));
  const beat = (id: string, load: number, ok = true) => health.apply(id, { type: 'heartbeat', heartbeat: hb(load, ok), at: (t += 5000) });
  return { view, health, changes, removed, beat, setStore: (r: SiteRecord[]) => (store = r) };
}

describe('SitesView', () => {
  it('lists every store site, offline until heartbeats arrive', () => {
    const { view } = setup([record('a'), record('b')]);
    expect(view.list().map((s) => [s.id, s.health, s.load])).toEqual([
      ['a', 'offline', 0],
      ['b', 'offline', 0],
    ]);
    expect(view.get('a')).toMatchObject({ name: 'Store a', capacity: 200, services: [{ name: 'pos', addresses: ['192.0.2.10'] }] });
  });

  it('emits change synchronously on a health change, with load in capacity units', () => {
    const { view, changes, beat } = setup([record('a')]);
    beat('a', 0.5);
    beat('a', 0.5);
    // Applied before the call returns: the router never polls.
    expect(view.get('a')).toMatchObject({ health: 'online', load: 100 });
    expect(changes.at(-1)).toMatchObject({ id: 'a', health: 'online', load: 100 });
    const n = changes.length;
    beat('a', 0.5);
    expect(changes.length).toBe(n); // nothing changed, nothing emitted
    beat('a', 0.75);
    expect(changes.at(-1)).toMatchObject({ load: 150 });
    beat('a', 0.75, false);
    expect(changes.at(-1)).toMatchObject({ health: 'degraded' });
  });

  it('turns a stored drain flag into draining, and a removed site into removed', () => {
    const { view, removed, beat, setStore } = setup([record('a'), record('b')]);
    beat('a', 0.1);
    beat('a', 0.1);
    setStore([record('a', { draining: true }), record('b')]);
    view.refresh();
    expect(view.get('a')?.health).toBe('draining');
    setStore([record('a', { draining: false, lat: 50 })]);
    view.refresh();
    expect(view.get('a')).toMatchObject({ health: 'online', lat: 50 });
    expect(removed).toEqual(['b']);
    expect(view.get('b')).toBeUndefined();
  });

  it('applies one changed or removed site without re-reading the store', () => {
    const { view, removed, beat, setStore } = setup([record('a')]);
    setStore([]);
    view.upsert(record('c', { lat: 10 }));
    expect(view.get('c')).toMatchObject({ lat: 10, health: 'offline' });
    expect(view.get('a')).toBeDefined();
    beat('c', 0.1);
    beat('c', 0.1);
    view.upsert(record('c', { draining: true }));
    expect(view.get('c')?.health).toBe('draining');
    view.remove('c');
    view.remove('never-known');
    expect(removed).toEqual(['c']);
    expect(view.get('c')).toBeUndefined();
  });

  it('ignores heartbeats of sites the store does not list', () => {
    const { view, changes, beat } = setup([record('a')]);
    beat('ghost', 0.1);
    beat('ghost', 0.1);
    expect(view.get('ghost')).toBeUndefined();
    expect(changes.filter((c) => c.id === 'ghost')).toEqual([]);
  });
});
