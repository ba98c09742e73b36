// A hub on PostgreSQL (a throwaway cluster: root, so the kernel project) through a PostgreSQL outage:
// while it is down the API answers 503 STORE_UNAVAILABLE; when it is back the same process answers
// again, with everything accepted before the outage, and its engine holds the rollout lease again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../base/index.ts';
import { startPostgres, type TestPostgres } from './store/testing/postgres.ts';
import { startTestHub, type TestHub } from './testing/hub-fixture.ts';

let pgc: TestPostgres;
let t: TestHub | undefined;
beforeAll(async () => {
  pgc = await startPostgres();
});
afterAll(async () => {
  await t?.close();
  pgc?.remove();
});

const site = { name: 'store-1', labels: { region: 'eu' }, lat: 52.5, lon: 13.4, clientCidrs: [], capacity: 10, services: [] };
const policy = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}]}]
`;

describe('hub on PostgreSQL through an outage', () => {
  it('answers 503 STORE_UNAVAILABLE while PostgreSQL is down and resumes without a restart, nothing lost', { timeout: 120_000 }, async () => {
    const url = await pgc.createDatabase('hub');
    t = await startTestHub((c) => {
      c.store = url;
    });
    const hub = t;
    expect((await hub.api('POST', '/v1/sites', site)).status).toBe(201);
    const pushed = await hub.api('POST', '/v1/policies', { files: [{ name: 'db.yaml', content: policy }], message: 'v1' });
    expect(pushed.status).toBe(201);
    const lease = async () => (await hub.hub.store.rollouts.leaseEpoch().catch(() => -1)) as number;
    await waitFor(async () => (await lease()) === 1, { what: 'the hub to take the rollout lease', timeoutMs: 5000 });

    pgc.stop();
    const down = Date.now();
    for (const path of ['/v1/sites', '/v1/policies', '/v1/rollouts']) {
      const r = await hub.api('GET', path);
      expect(r.status).toBe(503);
      expect(r.body).toMatchObject({ code: 'STORE_UNAVAILABLE' });
    }
    // It keeps answering (no hang, no crash) for a while: ticks, lease polls and keys refreshes fail and
    // retry. 5 s by default; WEFT_PG_OUTAGE_MS=30000 runs the 30 s outage.
    const outageMs = Number(process.env.WEFT_PG_OUTAGE_MS ?? 5000);
    while (Date.now() - down < outageMs) {
      expect((await hub.api('GET', '/v1/sites')).status).toBe(503);
      await new Promise((r) => setTimeout(r, 500));
    }

    pgc.start();
    const back = Date.now();
    await waitFor(async () => (await hub.api('GET', '/v1/sites')).status === 200, { what: 'the API to answer again', timeoutMs: 10_000 });
    process.stderr.write(`API back ${Date.now() - back} ms after PostgreSQL\n`);
    expect((await hub.api('GET', '/v1/sites')).body.map((s: { name: string }) => s.name)).toEqual(['store-1']);
    expect((await hub.api('GET', `/v1/policies/${pushed.body.version}`)).body).toMatchObject({ version: pushed.body.version, message: 'v1' });
    // The lease session died with the server: the hub took the lease again, at a new epoch.
    await waitFor(async () => (await lease()) === 2, { what: 'the hub to take the rollout lease again', timeoutMs: 10_000 });
    expect((await hub.api('POST', '/v1/sites', { ...site, name: 'store-2' })).status).toBe(201);
  });
});
