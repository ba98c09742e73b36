// Agent update rollouts on a real hub with simulated sites on its real broker: a release uploaded
// through the API (manifest, then bytes checked against it), served with HTTP Range, refused when it
// needs a newer hub; a canary that blesses lets the rollout move on; a canary that rolls back stops
// it by itself, and the fleet view shows which site runs what and why an update failed.
import { createHash, generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRelease, type ReleaseManifest } from '../../protocol/index.ts';
import { fleet } from '../testing/fleet.ts';
import { startTestHub, type TestHub } from '../testing/hub-fixture.ts';
import { eventually, type SimAgent } from '../testing/sim-agent.ts';

const key = generateKeyPairSync('ed25519').privateKey;
const bytes = (v: string) => Buffer.alloc(50_000, v);
function signed(version: string, over: Partial<ReleaseManifest> = {}) {
  const b = bytes(version);
  return signRelease(
    {
      kind: 'agent',
      version,
      file: `weft-agent-${version}`,
      sha256: createHash('sha256').update(b).digest('hex'),
      size: b.length,
      minHubVersion: '0.1.0',
      issuedAt: '2026-12-07T00:00:00Z',
      ...over,
    },
    key,
  );
}

let t: TestHub;
let agents: Map<string, SimAgent>;
/** Sites whose agent fails version 0.3.0's health gate. */
const bad = new Set(['canary-2']);

beforeAll(async () => {
  t = await startTestHub();
  agents = await fleet(
    t,
    ['canary-1', 'canary-2', 'shop-1', 'shop-2'],
    () => ({ kind: 'store' }),
    (n) => ({
      update: (o) =>
        JSON.parse(o.release.payload).version === '0.3.0' && bad.has(n)
          ? { state: 'rolled-back', code: 'UPDATE_HEALTH_GATE', reason: 'health gate failed after 120 s: broker: broker link reconnecting' }
          : { state: 'blessed' },
    }),
  );
});
afterAll(async () => {
  for (const a of agents?.values() ?? []) await a.close();
  await t?.close();
});

async function upload(version: string, over: Partial<ReleaseManifest> = {}, body = bytes(version)) {
  const r = await t.api('POST', '/v1/releases', signed(version, over));
  expect(r.status).toBe(201);
  const put = await t.hub.app.inject({
    method: 'PUT',
    url: `/v1/releases/${version}/agent/artifact`,
    headers: { authorization: `Bearer ${t.admin}`, 'content-type': 'application/octet-stream' },
    payload: body,
  });
  return { status: put.statusCode, body: put.json() };
}
const status = async (id: number) => (await t.api('GET', `/v1/updates/${id}`)).body;

describe('agent update rollouts', () => {
  it('keeps an artifact only when it matches its manifest, and serves it with Range', async () => {
    expect(await upload('0.2.0')).toMatchObject({ status: 200, body: { complete: true } });
    const changed = bytes('0.2.1');
    changed[10] ^= 1;
    expect(await upload('0.2.1', {}, changed)).toMatchObject({ status: 400, body: { code: 'RELEASE_MISMATCH' } });
    expect((await t.api('POST', '/v1/releases', signed('0.2.0'))).body.code).toBe('RELEASE_EXISTS');
    const part = await t.hub.app.inject({ method: 'GET', url: '/v1/releases/0.2.0/agent/artifact', headers: { range: 'bytes=49000-' } });
    expect(part.statusCode).toBe(206);
    expect(part.rawPayload.equals(bytes('0.2.0').subarray(49_000))).toBe(true);
    expect((await t.api('GET', '/v1/releases')).body.map((r: { version: string; complete: boolean }) => [r.version, r.complete])).toEqual(
      expect.arrayContaining([
        ['0.2.0', true],
        ['0.2.1', false],
      ]),
    );
  });

  it('refuses to roll out a release that needs a newer hub', async () => {
    expect((await upload('0.9.0', { minHubVersion: '9.0.0' })).status).toBe(200);
    expect(await t.api('POST', '/v1/updates', { version: '0.9.0' })).toMatchObject({ status: 409, body: { code: 'RELEASE_HUB_TOO_OLD' } });
    expect(await t.api('POST', '/v1/updates', { version: '0.2.1' })).toMatchObject({ status: 409, body: { code: 'RELEASE_INCOMPLETE' } });
  });

  it('rolls 0.2.0 out canary first, each stage gated on the sites blessing it', async () => {
    const r = await t.api('POST', '/v1/updates', { version: '0.2.0', canary: ['canary-1'], percents: [50] });
    expect(r.status).toBe(201);
    const id = r.body.rollout.id;
    await eventually(async () => (await status(id)).rollout.state === 'completed', 'update 0.2.0 to complete');
    const order = agents.get('shop-2')!.updateOrders[0];
    expect(order).toMatchObject({ rolloutId: id, deadlineS: 120 });
    expect(order.url).toMatch(/\/v1\/releases\/0\.2\.0\/agent\/artifact$/);
    // The canary got its order first: the others only after it blessed.
    const fleetRows = (await t.api('GET', '/v1/fleet/versions')).body;
    expect(fleetRows.map((f: { siteId: string; version: string }) => [f.siteId, f.version])).toEqual([
      ['canary-1', '0.2.0'],
      ['canary-2', '0.2.0'],
      ['shop-1', '0.2.0'],
      ['shop-2', '0.2.0'],
    ]);
  });

  it('stops by itself when a canary rolls back, with the reason, and pauses and resumes', async () => {
    expect((await upload('0.3.0')).status).toBe(200);
    const r = await t.api('POST', '/v1/updates', { version: '0.3.0', canary: ['canary-1', 'canary-2'] });
    const id = r.body.rollout.id;
    await eventually(async () => (await status(id)).rollout.state === 'failed', 'update 0.3.0 to fail');
    const s = await status(id);
    expect(s.rollout.reason).toBe(
      'site canary-2 failed the update to 0.3.0: UPDATE_HEALTH_GATE health gate failed after 120 s: broker: broker link reconnecting',
    );
    // Nothing went past the canary stage.
    expect(agents.get('shop-1')!.updateOrders.map((o) => o.rolloutId)).not.toContain(id);
    expect(s.stages[1].sites.every((x: { publishedAt: number | null }) => x.publishedAt === null)).toBe(true);
    const f = (await t.api('GET', '/v1/fleet/versions')).body.find((x: { siteId: string }) => x.siteId === 'canary-2');
    expect(f).toMatchObject({ version: 'test', lastUpdate: { version: '0.3.0', state: 'rolled-back', code: 'UPDATE_HEALTH_GATE' } });
    expect(await t.api('POST', `/v1/updates/${id}/pause`, {})).toMatchObject({ status: 409, body: { code: 'ROLLOUT_NOT_RUNNING' } });
  });
});
