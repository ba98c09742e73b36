// Limits on the routes anyone may call, over real HTTPS (issue 15, item 4): a 3 MB deeply nested
// JSON body to /v1/enroll is refused before it is parsed, and one address gets 429 past its rate.
// Both fail on the hub before public-limits.ts (the body was parsed, for about a second, then 400).
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../testing/hub-fixture.ts';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub((c) => {
    c.publicLimits = { bodyLimitBytes: 16 * 1024, perSecond: 2, burst: 5, exempt: [] };
  });
});
afterAll(async () => {
  await t?.close();
});

/** `sendOnly`: write only that many bytes of the body (its full length declared) and wait for the answer. */
function request(method: string, path: string, body?: string, token?: string, sendOnly?: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${t.hub.url}${path}`,
      {
        method,
        ca: t.hub.caCertPem,
        headers: {
          ...(body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body: text });
          if (sendOnly !== undefined) req.destroy();
        });
      },
    );
    // The server may answer 413 and close before it has read the whole body.
    req.on('error', (err) => (err.message.includes('EPIPE') || err.message.includes('ECONNRESET') ? undefined : reject(err)));
    if (sendOnly !== undefined) req.write(body?.slice(0, sendOnly));
    else req.end(body);
  });
}

describe('public route limits', () => {
  it('refuses a 3 MB deeply nested JSON body to /v1/enroll with 413, without parsing it', async () => {
    const depth = 1_000_000;
    const nested = `{"siteName":${'['.repeat(depth)}${']'.repeat(depth)},"x":"${'a'.repeat(1_000_000)}"}`;
    // Only the first 64 KiB are ever sent: an answer proves the hub refused the body without reading (or parsing) it.
    const r = await request('POST', '/v1/enroll', nested, undefined, 64 * 1024);
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body).code).toBe('BODY_TOO_LARGE');
  });

  it('answers 429 past the rate to one address, and leaves authenticated routes alone', async () => {
    await new Promise((r) => setTimeout(r, 3_000)); // a full bucket
    const statuses = [];
    for (let i = 0; i < 12; i++) statuses.push((await request('GET', '/v1/ca')).status);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(5);
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(7);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(5);
    const limited = await request('GET', '/v1/ca');
    expect(JSON.parse(limited.body).code).toBe('RATE_LIMITED');
    for (let i = 0; i < 12; i++) expect((await request('GET', '/v1/whoami', undefined, t.admin)).status).toBe(200);
  });
});
