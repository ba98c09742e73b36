// A site that enrolls after a rollout reached it gets the policy the fleet is on: its own signed
// bundle, published retained like a stage's, with its ack recorded on the rollout. Sites the
// rollout's selector does not cover (and every site before any rollout) get nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../testing/hub-fixture.ts';
import { fleet } from '../testing/fleet.ts';
import { deviceKeys, enrollRequest, eventually, SimAgent } from '../testing/sim-agent.ts';

const policy = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{port: 5432, protocol: TCP}]
`;

let t: TestHub;
const agents = new Map<string, SimAgent>();
const kind = (n: string) => ({ kind: n.split('-')[0] });
const join = async (names: string[]) => {
  for (const [n, a] of await fleet(t, names, kind)) agents.set(n, a);
};
const siteId = async (name: string) => (await t.hub.store.sites.byName(name))!.id;

beforeAll(async () => {
  t = await startTestHub();
});
afterAll(async () => {
  for (const a of agents.values()) await a.close();
  await t?.close();
});

describe('enrollment after a rollout', () => {
  it('gives a late store site the rolled-out version, records its ack, and leaves uncovered sites alone', async () => {
    // Before any rollout: enrolling publishes nothing (the site stays default-allow).
    await join(['store-1']);
    expect(await t.hub.store.rollouts.latestBundle(await siteId('store-1'))).toBeUndefined();

    const pushed = await t.api('POST', '/v1/policies', { files: [{ name: 'db.yaml', content: policy }], message: 'v1' });
    expect(pushed.status).toBe(201);
    const r = await t.api('POST', '/v1/rollouts', { version: pushed.body.version, selector: 'kind=store' });
    expect(r.status).toBe(201);
    const id: number = r.body.rollout.id;
    await eventually(async () => (await t.hub.store.rollouts.get(id))?.state === 'completed', 'rollout to complete');

    await join(['store-2', 'factory-1']);
    const late = agents.get('store-2')!;
    await late.until(() => late.bundles.length === 1, 'its bundle');
    const b = late.bundles[0];
    expect(b).toMatchObject({ siteId: await siteId('store-2'), generation: 1, policyVersion: pushed.body.version });
    expect(JSON.stringify(b.policies)).toContain('"name":"db"');
    expect(late.rejections).toEqual([]);

    // Its ack lands on its row of the rollout (status by site) and in its ack history.
    await eventually(async () => {
      const st = (await t.api('GET', `/v1/rollouts/${id}`)).body;
      const rows = st.stages.flatMap((s: { sites: { siteId: string; generation: number; result: string }[] }) => s.sites);
      return rows.some((x: { siteId: string; generation: number; result: string }) => x.siteId === 'store-2' && x.generation === 1 && x.result === 'applied');
    }, 'ack of store-2 on the rollout');
    expect((await t.hub.store.rollouts.acks(await siteId('store-2'), 10)).map((a) => [a.generation, a.result])).toEqual([[1, 'applied']]);
    expect((await t.hub.store.rollouts.get(id))?.state).toBe('completed');

    // The factory site is not covered by kind=store: no bundle recorded (every publish is recorded first), none received.
    expect(await t.hub.store.rollouts.latestBundle(await siteId('factory-1'))).toBeUndefined();
    expect(agents.get('factory-1')!.bundles).toEqual([]);
    // The rollout's first site kept its one bundle (the late site did not cause a republish to it).
    expect(agents.get('store-1')!.bundles.map((x) => x.generation)).toEqual([1]);
  });

  it('re-enrolling with the same device key republishes nothing new (same generation)', async () => {
    const keys = deviceKeys();
    await t.api('POST', '/v1/sites', { name: 'store-3', labels: { kind: 'store' } });
    const tok = await t.api('POST', '/v1/sites/store-3/token', {});
    expect((await t.api('POST', '/v1/enroll', enrollRequest('store-3', keys, tok.body.token), null)).status).toBe(200);
    expect(await t.hub.store.rollouts.generation(await siteId('store-3'))).toBe(1);
    const challenge = (await t.api('POST', '/v1/enroll/challenge', undefined, null)).body.challenge;
    const again = await t.api('POST', '/v1/enroll', enrollRequest('store-3', keys, undefined, challenge), null);
    expect(again.status).toBe(200);
    expect(await t.hub.store.rollouts.generation(await siteId('store-3'))).toBe(1);
    // The retained generation 1 is what the device finds when it connects after re-enrolling.
    const a = await SimAgent.connect(t.hub.broker.url(), again.body);
    agents.set('store-3', a);
    await a.until(() => a.bundles.length === 1, 'its retained bundle');
    expect(a.bundles[0].generation).toBe(1);
  });

  it('joins a running rollout in its last stage: its bundle goes out and the stage waits for its ack too', async () => {
    const pushed = await t.api('POST', '/v1/policies', { files: [{ name: 'db.yaml', content: policy.replace('5432', '5433') }], message: 'v2' });
    // store-1 holds its ack back, so the rollout stays running in its last stage.
    const slow = agents.get('store-1')!;
    const realAck = slow.ack.bind(slow);
    const held: Parameters<SimAgent['ack']>[0][] = [];
    slow.ack = async (a) => {
      held.push(a);
    };
    const r = await t.api('POST', '/v1/rollouts', { version: pushed.body.version, selector: 'kind=store' });
    expect(r.status).toBe(201);
    const id: number = r.body.rollout.id;
    await slow.until(() => held.length === 1, 'store-1 to receive v2');

    await join(['store-4']);
    const late = agents.get('store-4')!;
    await late.until(() => late.bundles.length === 1, 'its bundle');
    expect(late.bundles[0]).toMatchObject({ generation: 1, policyVersion: pushed.body.version });
    const store4 = await siteId('store-4');
    const row = async () => (await t.hub.store.rollouts.sites(id)).find((x) => x.siteId === store4);
    await eventually(async () => (await row())?.result === 'applied', 'ack of store-4 on the running rollout');
    expect((await row())?.stage).toBe(r.body.rollout.stages.length - 1);
    expect((await t.hub.store.rollouts.get(id))?.state).toBe('running');

    slow.ack = realAck;
    for (const a of held) await realAck(a);
    await eventually(async () => (await t.hub.store.rollouts.get(id))?.state === 'completed', 'rollout to complete');
  });
});
