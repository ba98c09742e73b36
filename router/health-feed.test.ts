// The router fed by the hub's real health model and SitesView (router/health), queried with `dig`:
// a health input changes the very next answer (no polling, no wait between them), draining sites
// are left out, best-N answers, and the no-healthy-site behaviour (fail-open / fail-closed SERVFAIL).
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHealthModel, createSitesView, type HealthModel, type SiteRecord } from './health/index.ts';
import type { RecordSitesView } from './health/types.ts';
import { startRouter, type Router } from './index.ts';
import { dig, hasDig } from './testing/dig.ts';
import { CITIES, GEO_NETS, writeWorldGeoDb, type GeoDbFile } from './testing/fixture.ts';

const digInstalled = hasDig('the router health-feed tests');

const ZONE = 'svc.example.com';
const ids = Object.keys(CITIES) as (keyof typeof CITIES)[];
const records: SiteRecord[] = ids.map((id, i) => ({
  id,
  name: id,
  labels: {},
  lat: CITIES[id].lat,
  lon: CITIES[id].lon,
  clientCidrs: [],
  capacity: 100,
  draining: false,
  services: [{ name: 'pos', addresses: [`192.0.2.${i + 1}`] }],
}));
const addr = (id: keyof typeof CITIES) => `192.0.2.${ids.indexOf(id) + 1}`;

let clock = 1_000_000;
let health: HealthModel;
let view: RecordSitesView;
let geo: GeoDbFile;
const routers: Router[] = [];

function heartbeat(id: string, ok = true): void {
  clock += 1000;
  health.apply(id, {
    type: 'heartbeat',
    at: clock,
    heartbeat: {
      v: 1,
      at: new Date(clock).toISOString(),
      nodeReady: true,
      enforcing: true,
      appliedGeneration: 1,
      checks: [{ name: 'pos', ok }],
      load: 0.1,
      link: { reconnects: 0, outboxDepth: 0, outboxLost: 0 },
    },
  });
}

function bringUp(id: string): void {
  health.apply(id, { type: 'status', state: 'online', retained: false, at: clock });
  for (let i = 0; i < health.config.upAfter; i++) heartbeat(id);
}

async function router(opts: { noHealthySite?: 'fail-open' | 'fail-closed'; answerSites?: number } = {}): Promise<(sub: string) => ReturnType<typeof dig>> {
  const r = await startRouter({
    sites: view,
    zone: ZONE,
    dns: { host: '127.0.0.1', port: 0 },
    geoDbPath: geo.path,
    logger: pino({ level: 'silent' }),
    ...opts,
  });
  routers.push(r);
  return (sub) => dig('127.0.0.1', r.dns.port, `pos.${ZONE}`, 'A', `+subnet=${sub}`);
}

const answers = async (p: ReturnType<typeof dig>) => (await p).answer.map((x) => x.data);

beforeAll(() => {
  geo = writeWorldGeoDb();
  health = createHealthModel({ heartbeatIntervalMs: 5000 });
  view = createSitesView({ listSites: () => records, health, now: () => clock });
});

/** Every site online and not draining: each test starts from the same state. */
function reset(): void {
  for (const id of ids) {
    health.apply(id, { type: 'drain', draining: false, at: clock });
    bringUp(id);
  }
}
beforeEach(reset);

afterAll(async () => {
  for (const r of routers) await r.close();
  view?.close();
  geo?.cleanup();
});

describe.skipIf(!digInstalled)('router fed by the hub health model', () => {
  it('a last will, a failing check and staleness each take a site out of the very next answer', async () => {
    const q = await router();
    expect(await answers(q(GEO_NETS.paris))).toEqual([addr('paris')]);
    health.apply('paris', { type: 'status', state: 'offline', retained: false, at: clock });
    expect(await answers(q(GEO_NETS.paris))).toEqual([addr('lyon')]);
    // A failing service check: lyon goes degraded; online berlin beats it although farther.
    heartbeat('lyon', false);
    expect(await answers(q(GEO_NETS.paris))).toEqual([addr('berlin')]);
    // Staleness: the monitor's tick finds berlin silent for longer than 3 heartbeats.
    for (const id of ['madrid', 'nyc'] as const) heartbeat(id);
    heartbeat('lyon', false);
    health.tick((health.get('berlin')?.lastHeartbeatAt ?? 0) + 3 * 5000 + 1);
    expect(view.get('berlin')?.health).toBe('offline');
    expect(await answers(q(GEO_NETS.paris))).toEqual([addr('madrid')]);
    reset();
    expect(await answers(q(GEO_NETS.paris))).toEqual([addr('paris')]);
  });

  it('draining sites are never chosen; lifting the drain brings them back', async () => {
    const q = await router();
    health.apply('madrid', { type: 'drain', draining: true, at: clock });
    expect(view.get('madrid')?.health).toBe('draining');
    expect(await answers(q(GEO_NETS.madrid))).toEqual([addr('lyon')]);
    health.apply('madrid', { type: 'drain', draining: false, at: clock });
    expect(await answers(q(GEO_NETS.madrid))).toEqual([addr('madrid')]);
  });

  it('answers with the best N sites, nearest first, skipping unhealthy ones', async () => {
    const q = await router({ answerSites: 3 });
    const r = await q(GEO_NETS.paris);
    expect(r.answer.map((x) => x.data)).toEqual([addr('paris'), addr('lyon'), addr('berlin')]);
    expect(r.answer.every((x) => x.ttl === 10)).toBe(true);
    health.apply('lyon', { type: 'session-down', at: clock });
    expect(await answers(q(GEO_NETS.paris))).toEqual([addr('paris'), addr('berlin'), addr('madrid')]);
  });

  it('no healthy site: fail-open answers the nearest site anyway, fail-closed answers SERVFAIL', async () => {
    const open = await router();
    const closed = await router({ noHealthySite: 'fail-closed' });
    for (const id of ids) health.apply(id, { type: 'session-down', at: clock });
    expect(await answers(open(GEO_NETS.berlin))).toEqual([addr('berlin')]);
    const r = await closed(GEO_NETS.berlin);
    expect(r.status).toBe('SERVFAIL');
    expect(r.answer).toHaveLength(0);
    reset();
    expect((await closed(GEO_NETS.berlin)).status).toBe('NOERROR');
    expect(await answers(closed(GEO_NETS.berlin))).toEqual([addr('berlin')]);
  });
});
