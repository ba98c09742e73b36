// An open event stream lives no longer than its token: revoking the token ends it (within the recheck
// interval), on a real hub over HTTP.
import { get } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECHECK_MS } from './auth.ts';
import { startTestHub, type TestHub } from '../testing/hub-fixture.ts';
import { eventually } from '../testing/sim-agent.ts';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub();
});
afterAll(async () => {
  await t?.close();
});

describe('API tokens and long-lived requests', () => {
  it('ends an open event stream when its token is revoked', async () => {
    const created = await t.api('POST', '/v1/tokens', { name: 'dash', role: 'viewer', ttlDays: 7 });
    expect(created.status).toBe(201);
    expect(Date.parse(created.body.expiresAt)).toBeGreaterThan(Date.now() + 6 * 86_400_000);
    let text = '';
    let ended = false;
    const req = get(`${t.hub.httpUrl}/v1/health/events`, { headers: { authorization: `Bearer ${created.body.token}` } }, (res) => {
      expect(res.statusCode).toBe(200);
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.once('close', () => (ended = true));
    });
    req.on('error', () => (ended = true));
    try {
      await eventually(() => text.includes('event: snapshot'), 'snapshot');
      expect((await t.api('DELETE', `/v1/tokens/${created.body.id}`)).status).toBeLessThan(300);
      const t0 = Date.now();
      await eventually(() => ended, 'stream ended', RECHECK_MS + 3000);
      expect(Date.now() - t0).toBeLessThan(RECHECK_MS + 3000);
      expect((await t.api('GET', '/v1/sites', undefined, created.body.token)).status).toBe(401);
    } finally {
      req.destroy();
    }
  });
});
