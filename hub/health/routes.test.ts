// GET /v1/health and the SSE stream on a real fastify listener.
import { get } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import { errorBody } from '../server/schemas.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HeartbeatMessage } from '../../protocol/index.ts';
import { createHealthModel } from '../../router/index.ts';
import { healthRoutes } from './routes.ts';
import { waitFor } from '../broker/testing/sites.ts';

const hb: HeartbeatMessage = {
  v: 1,
  at: '2026-01-01T00:00:00Z',
  nodeReady: true,
  enforcing: true,
  appliedGeneration: 4,
  checks: [{ name: 'pos', ok: true }],
  load: 0.5,
  link: { reconnects: 0, outboxDepth: 0, outboxLost: 0 },
};

describe('health routes', () => {
  const health = createHealthModel();
  let app: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    // As the hub app does (hub/server/app.ts): unknown query fields are errors, not dropped.
    app = Fastify({ ajv: { customOptions: { removeAdditional: false } } });
    app.addSchema(errorBody);
    await app.register(healthRoutes, { health, keepaliveMs: 50 });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
    health.apply('b', { type: 'heartbeat', heartbeat: hb, at: 1000 });
    health.apply('a', { type: 'heartbeat', heartbeat: hb, at: 1000 });
    health.apply('a', { type: 'heartbeat', heartbeat: hb, at: 6000 });
  });
  afterAll(() => app?.close());

  it('GET /v1/health lists every site, sorted, with its reason', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/health' });
    expect(res.statusCode).toBe(200);
    const body = res.json() as { sites: { siteId: string; health: string; since: string; load: number; reason: string; appliedGeneration: number }[] };
    expect(body.sites.map((s) => [s.siteId, s.health])).toEqual([
      ['a', 'online'],
      ['b', 'offline'],
    ]);
    expect(body.sites[0]).toMatchObject({ since: new Date(6000).toISOString(), load: 0.5, reason: '2 good heartbeats', appliedGeneration: 4 });
    const one = await app.inject({ method: 'GET', url: '/v1/health?site=b' });
    expect((one.json() as { sites: unknown[] }).sites).toHaveLength(1);
    expect((await app.inject({ method: 'GET', url: '/v1/health?bogus=1' })).statusCode).toBe(400);
  });

  it('GET /v1/health/events streams a snapshot, then each change as it happens', async () => {
    let text = '';
    const req = get(`${base}/v1/health/events`, (res) => {
      expect(res.headers['content-type']).toBe('text/event-stream');
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
    });
    try {
      await waitFor(() => text.includes('event: snapshot'), 'snapshot');
      health.apply('a', { type: 'status', state: 'offline', retained: false, at: 7000 });
      await waitFor(() => text.includes('event: health'), 'health event');
      const data = text.split('event: health\ndata: ')[1].split('\n')[0];
      expect(JSON.parse(data)).toEqual({ siteId: 'a', from: 'online', to: 'offline', at: new Date(7000).toISOString(), reason: 'last will: offline' });
      await waitFor(() => text.includes(': keepalive'), 'keepalive comment');
    } finally {
      req.destroy();
    }
    // The listener is gone once the client leaves.
    await waitFor(() => health.listenerCount('event') === 0, 'listener removed');
  });
});
