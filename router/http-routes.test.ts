// The HTTP side through fastify: redirects, the explained decision, fail-closed 503.
import Fastify, { type FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routerRoutes, startRouter, type Router, type RouteExplanation } from './index.ts';
import { MemorySitesView } from './testing/memory-sites-view.ts';
import { GEO_NETS, worldSites, writeWorldGeoDb, type GeoDbFile } from './testing/fixture.ts';

let view: MemorySitesView;
let geo: GeoDbFile;
const routers: Router[] = [];
const apps: FastifyInstance[] = [];

async function serve(noHealthySite: 'fail-open' | 'fail-closed'): Promise<FastifyInstance> {
  const router = await startRouter({
    sites: view,
    zone: 'svc.example.com',
    dns: { port: 0 },
    geoDbPath: geo.path,
    noHealthySite,
    cidrMap: [{ cidr: '10.30.0.0/16', site: 'madrid' }],
    logger: pino({ level: 'silent' }),
  });
  routers.push(router);
  // As behind the hub's reverse proxy: the client address comes from X-Forwarded-For.
  const app = Fastify({ trustProxy: true, logger: false });
  await app.register(routerRoutes, { router });
  apps.push(app);
  return app;
}

beforeAll(() => {
  geo = writeWorldGeoDb();
  view = new MemorySitesView(worldSites());
});

afterAll(async () => {
  for (const a of apps) await a.close();
  for (const r of routers) await r.close();
  geo.cleanup();
});

const from = (net: string) => ({ 'x-forwarded-for': net.replace(/0\/\d+$/, '7') });

describe('router HTTP', () => {
  it('302s to the nearest site with the path and query, never cached', async () => {
    const app = await serve('fail-open');
    const r = await app.inject({ url: '/go/pos/menu/today%20specials?lang=fr&x=1', headers: from(GEO_NETS.nyc) });
    expect(r.statusCode).toBe(302);
    expect(r.headers.location).toBe('https://nyc.example.net/base/menu/today%20specials?lang=fr&x=1');
    expect(r.headers['cache-control']).toBe('no-store');
    const bare = await app.inject({ url: '/go/pos', headers: from(GEO_NETS.berlin) });
    expect(bare.headers.location).toBe('https://berlin.example.net/base/');
    const own = await app.inject({ url: '/go/POS/x', headers: { 'x-forwarded-for': '10.30.1.1' } });
    expect(own.headers.location).toBe('https://madrid.example.net/base/x');
  });

  it('404s an unknown service', async () => {
    const app = await serve('fail-open');
    const r = await app.inject({ url: '/go/nothing/x' });
    expect(r.statusCode).toBe(404);
    expect(r.json()).toMatchObject({ code: 'ROUTER_UNKNOWN_SERVICE' });
  });

  it('explains a decision: how the client was located, candidates with distance, health, load, the choice', async () => {
    const app = await serve('fail-open');
    view.setHealth('paris', 'offline');
    view.update('lyon', { load: 95, capacity: 100 });
    try {
      const r = await app.inject({ url: `/v1/route?service=pos&ip=198.51.100.10` });
      expect(r.statusCode).toBe(200);
      const e = r.json<RouteExplanation>();
      expect(e.client).toMatchObject({ ip: '198.51.100.10', method: 'geo-db', network: '198.51.100.0/26' });
      expect(e.client.how).toContain('geo database');
      expect(e.outcome).toBe('healthy');
      expect(e.chosen.map((c) => c.siteId)).toEqual(['lyon']);
      expect(e.reason).toMatch(/^lyon: nearest usable site \(39\d\.\d km\); 1 site\(s\) excluded$/);
      expect(e.candidates.map((c) => [c.siteId, c.rank, c.excluded])).toEqual([
        ['lyon', 1, null],
        ['berlin', 2, null],
        ['madrid', 3, null],
        ['nyc', 4, null],
        ['paris', null, 'offline'],
      ]);
      expect(e.candidates[0]).toMatchObject({ health: 'online', load: 95, capacity: 100, loadRatio: 0.95 });
      expect(e.candidates[4].distanceKm).toBe(0);
      const bad = await app.inject({ url: '/v1/route?service=pos&ip=not-an-ip' });
      expect(bad.statusCode).toBe(400);
      const cidr = (await app.inject({ url: '/v1/route?service=pos&ip=10.30.0.1' })).json<RouteExplanation>();
      expect(cidr.client).toMatchObject({ method: 'cidr-site', network: '10.30.0.0/16' });
      expect(cidr.reason).toContain('own network');
    } finally {
      view.setHealth('paris', 'online');
      view.update('lyon', { load: 0 });
    }
  });

  it('with no healthy site: 503 when failing closed, the nearest site anyway when failing open', async () => {
    const closed = await serve('fail-closed');
    const open = await serve('fail-open');
    for (const s of view.list()) view.setHealth(s.id, 'offline');
    try {
      const r = await closed.inject({ url: '/go/pos/x', headers: from(GEO_NETS.paris) });
      expect(r.statusCode).toBe(503);
      expect(r.headers['cache-control']).toBe('no-store');
      expect(r.json()).toMatchObject({ code: 'ROUTER_NO_HEALTHY_SITE' });
      const o = await open.inject({ url: '/go/pos/x', headers: from(GEO_NETS.paris) });
      expect(o.statusCode).toBe(302);
      expect(o.headers.location).toBe('https://paris.example.net/base/x');
      const e = (await open.inject({ url: `/v1/route?service=pos&ip=198.51.100.10` })).json<RouteExplanation>();
      expect(e.outcome).toBe('fail-open');
    } finally {
      for (const s of view.list()) view.setHealth(s.id, 'online');
    }
    const back = await closed.inject({ url: '/go/pos/x', headers: from(GEO_NETS.paris) });
    expect(back.statusCode).toBe(302);
  });
});
