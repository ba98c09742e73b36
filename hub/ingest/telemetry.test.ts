import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VerdictRecord } from '../../protocol/index.ts';
import { startTestHub, type TestHub } from '../testing/hub-fixture.ts';
import { enrollSite } from '../testing/fleet.ts';
import { deviceKeys, enrollRequest, eventually, SimAgent } from '../testing/sim-agent.ts';

let t: TestHub;
let a: SimAgent;
beforeAll(async () => {
  t = await startTestHub();
  a = await SimAgent.connect(t.hub.broker.url(), await enrollSite(t, 'store-1', {}));
});
afterAll(async () => {
  await a?.close();
  await t?.close();
});

const v = (verdict: VerdictRecord['verdict'], name: string, dport: number): VerdictRecord => ({
  at: '2026-03-01T10:00:00Z',
  generation: 1,
  endpoint: 'shop/db',
  direction: 'ingress',
  verdict,
  proto: 6,
  src: '10.0.0.1',
  dst: '10.0.0.2',
  sport: 40000,
  dport,
  policy: { kind: 'NetworkPolicy', namespace: 'shop', name, rule: 'ingress[0]' },
});

describe('telemetry ingest', () => {
  it('stores verdicts and counters once per (site, seq), even when the outbox resends, and queries them', async () => {
    const batch = { seq: 1, at: '2026-03-01T10:00:00Z', type: 'verdicts' as const, verdicts: [v('deny', 'db', 5432), v('allow', 'web', 80)] };
    await a.events(batch);
    await a.events(batch);
    await a.events({ seq: 2, at: '2026-03-01T10:01:00Z', type: 'verdicts', verdicts: [{ ...v('deny', 'db', 5433), at: '2026-03-01T10:01:00Z' }] });
    await a.events({
      seq: 3,
      at: '2026-03-01T10:02:00Z',
      type: 'counters',
      counters: [{ policy: v('deny', 'db', 1).policy, verdict: 'deny', packets: 7, bytes: 700 }],
    });
    await a.events({
      seq: 3,
      at: '2026-03-01T10:02:00Z',
      type: 'counters',
      counters: [{ policy: v('deny', 'db', 1).policy, verdict: 'deny', packets: 7, bytes: 700 }],
    });
    await eventually(async () => (await t.api('GET', '/v1/counters?site=store-1')).body.length === 1, 'counters');
    const denies = await t.api('GET', '/v1/flows?site=store-1&verdict=deny');
    expect(denies.body.map((f: { dport: number }) => f.dport)).toEqual([5433, 5432]);
    expect((await t.api('GET', '/v1/flows?policy=NetworkPolicy/shop/web')).body).toHaveLength(1);
    expect((await t.api('GET', '/v1/flows?site=store-1&since=2026-03-01T10:00:30Z')).body).toHaveLength(1);
    expect((await t.api('GET', '/v1/counters?site=store-1')).body).toEqual([
      { siteId: 'store-1', policy: 'NetworkPolicy/shop/db', verdict: 'deny', packets: 7, bytes: 700 },
    ]);
    expect((await t.api('GET', '/v1/flows?verdict=maybe')).status).toBe(400);
  });

  it('drops malformed events, counting them, and keeps serving', async () => {
    await a.client.publishAsync('weft/v1/site/store-1/events', Buffer.from('\u0000garbage'), { qos: 1 });
    await a.client.publishAsync('weft/v1/site/store-1/events', Buffer.from(JSON.stringify({ v: 2, seq: 9 })), { qos: 1 });
    await a.client.publishAsync('weft/v1/site/store-1/heartbeat', Buffer.from(JSON.stringify({ v: 1, appliedGeneration: 'x' })), { qos: 0 });
    const metrics = async () => (await t.hub.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${t.admin}` } })).body;
    await eventually(async () => /malformed_total\{kind="events",code="PROTO_BAD_VERSION"\} 1/.test(await metrics()), 'malformed counted');
    expect(await metrics()).toMatch(/malformed_total\{kind="events",code="PROTO_NOT_JSON"\} 1/);
    expect((await t.api('GET', '/v1/flows?site=store-1')).status).toBe(200);
  });
});

describe('a replacement device (issue 15.8)', () => {
  it('keeps its first telemetry and acks: its outbox numbers from 1 again, and dedupe is per device', async () => {
    const site = 'store-r';
    const old = await SimAgent.connect(t.hub.broker.url(), await enrollSite(t, site, {}));
    const batch = (seq: number, dport: number) => ({ seq, at: '2026-03-02T10:00:00Z', type: 'verdicts' as const, verdicts: [v('deny', 'db', dport)] });
    for (const seq of [1, 2, 3]) await old.events(batch(seq, 6000 + seq));
    await old.ack({ generation: 1, result: 'applied', seq: 4 });
    await eventually(async () => (await t.api('GET', `/v1/flows?site=${site}`)).body.length === 3, 'the old device telemetry');
    await old.close();

    // A new device takes the site with a fresh token; its store starts at seq 1.
    const tok = (await t.api('POST', `/v1/sites/${site}/token`, {})).body.token;
    const enrolled = await t.api('POST', '/v1/enroll', enrollRequest(site, deviceKeys(), tok), null);
    expect(enrolled.status).toBe(200);
    const fresh = await SimAgent.connect(t.hub.broker.url(), enrolled.body);
    try {
      for (const seq of [1, 2, 3]) await fresh.events(batch(seq, 7000 + seq));
      await fresh.ack({ generation: 2, result: 'applied', seq: 4 });
      await eventually(async () => (await t.api('GET', `/v1/flows?site=${site}`)).body.length === 6, 'the new device telemetry');
      const ports = (await t.api('GET', `/v1/flows?site=${site}`)).body.map((f: { dport: number }) => f.dport).sort();
      expect(ports).toEqual([6001, 6002, 6003, 7001, 7002, 7003]);
      await eventually(async () => (await t.hub.store.rollouts.acks(site, 10)).some((r) => r.generation === 2), "the new device's ack");
      // Its own redelivery is still dropped.
      await fresh.events(batch(2, 7002));
      await fresh.events(batch(5, 7005));
      await eventually(async () => (await t.api('GET', `/v1/flows?site=${site}`)).body.length === 7, 'seq 5');
    } finally {
      await fresh.close();
    }
  });
});
