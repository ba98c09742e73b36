import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../testing/hub-fixture.ts';
import { fleet } from '../testing/fleet.ts';
import { eventually, type SimAgent } from '../testing/sim-agent.ts';

const policy = (name: string, port: number, annotations = '') => `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ${name}, namespace: shop${annotations}}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{port: ${port}, protocol: TCP}]
`;

let t: TestHub;
let agents: Map<string, SimAgent>;
/** Sites whose agent rejects bundles containing a policy named "poison". */
const names = ['eu-1', 'eu-2', 'eu-3', 'eu-4', 'us-1'];

beforeAll(async () => {
  t = await startTestHub();
  agents = await fleet(
    t,
    names,
    (n) => ({ region: n.slice(0, 2), kind: 'store' }),
    () => ({
      decide: (p) =>
        JSON.stringify(p.policies).includes('"poison"') ? { result: 'rejected', code: 'POLICY_CAPACITY', reason: 'too many rules' } : { result: 'applied' },
    }),
  );
});
afterAll(async () => {
  for (const a of agents?.values() ?? []) await a.close();
  await t?.close();
});

async function push(files: Record<string, string>, message = 'change'): Promise<number> {
  const r = await t.api('POST', '/v1/policies', { files: Object.entries(files).map(([name, content]) => ({ name, content })), message });
  expect(r.status).toBe(201);
  return r.body.version;
}
const status = async (id: number) => (await t.api('GET', `/v1/rollouts/${id}`)).body;
const done = async (id: number) => eventually(async () => ['completed', 'failed'].includes((await status(id)).rollout.state), `rollout ${id} to finish`);

describe('staged rollout', () => {
  afterEach(async () => {
    // Leave no running rollout behind for the next test.
    for (const r of await t.hub.store.rollouts.list({ state: 'running', limit: 10 })) await t.hub.store.rollouts.update(r.id, { state: 'superseded' });
  });

  it('rolls out canary, then percentages, then all, each stage waiting for every ack; only selected sites get it', async () => {
    const v = await push({ 'db.yaml': policy('db', 5432) });
    // eu-3 holds its acks back: the stage that holds it must not pass until it acks.
    const slow = agents.get('eu-3')!;
    const realAck = slow.ack.bind(slow);
    const held: Parameters<SimAgent['ack']>[0][] = [];
    slow.ack = async (a) => {
      held.push(a);
    };

    const r = await t.api('POST', '/v1/rollouts', { version: v, selector: 'region=eu', canary: ['eu-2'], percents: [50] });
    expect(r.status).toBe(201);
    const id = r.body.rollout.id;
    expect(r.body.stages.map((s: { name: string; sites: { siteId: string }[] }) => [s.name, s.sites.map((x) => x.siteId)])).toEqual([
      ['canary', ['eu-2']],
      ['50%', ['eu-1']],
      ['all', ['eu-3', 'eu-4']],
    ]);
    await eventually(async () => (await status(id)).rollout.stage === 2, 'stage all');
    try {
      await slow.until(() => held.length === 1, 'eu-3 bundle');
      await eventually(async () => (await status(id)).stages[2].applied === 1, 'eu-4 ack');
      const waiting = await status(id);
      expect(waiting.rollout.state).toBe('running');
      expect(waiting.stages[2]).toMatchObject({ applied: 1, pending: 1 });
    } finally {
      slow.ack = realAck;
    }
    await realAck(held[0]);
    await done(id);
    expect((await status(id)).rollout.state).toBe('completed');
    expect(agents.get('us-1')!.bundles).toHaveLength(0);
    for (const n of ['eu-1', 'eu-2', 'eu-3', 'eu-4']) {
      const b = agents.get(n)!.bundles.at(-1)!;
      expect(b).toMatchObject({ siteId: n, policyVersion: v });
      expect(b.policies).toHaveLength(1);
    }
    // Acks are recorded with time and reason.
    expect((await t.hub.store.rollouts.acks('eu-3', 1))[0]).toMatchObject({ result: 'applied', generation: agents.get('eu-3')!.applied });
  });

  it('halts at the stage where a site rejects, and rollback publishes the previous version as a NEW generation', async () => {
    const before = new Map(names.map((n) => [n, agents.get(n)!.applied]));
    const v = await push({ 'db.yaml': policy('db', 5432), 'poison.yaml': policy('poison', 1) });
    const r = await t.api('POST', '/v1/rollouts', { version: v, selector: 'region=eu', canary: ['eu-1'], percents: [50] });
    const id = r.body.rollout.id;
    await done(id);
    const s = await status(id);
    expect(s.rollout).toMatchObject({ state: 'failed', stage: 0, reason: expect.stringContaining('eu-1 rejected') });
    expect(s.stages[0].sites[0]).toMatchObject({ siteId: 'eu-1', result: 'rejected', code: 'POLICY_CAPACITY', reason: 'too many rules' });
    // The later stages never got the bundle.
    expect(agents.get('eu-2')!.applied).toBe(before.get('eu-2'));

    const prevVersion = agents.get('eu-1')!.bundles.at(-2)!.policyVersion;
    const rb = await t.api('POST', '/v1/rollouts/rollback', { rollout: id });
    expect(rb.status).toBe(201);
    await done(rb.body.rollout.id);
    expect((await status(rb.body.rollout.id)).rollout).toMatchObject({ kind: 'rollback', state: 'completed' });
    const last = agents.get('eu-1')!.bundles.at(-1)!;
    expect(last.policyVersion).toBe(prevVersion);
    expect(last.generation).toBeGreaterThan(agents.get('eu-1')!.bundles.at(-2)!.generation);
    expect((await status(id)).rollout.state).toBe('rolled-back');
  });

  it('applies the weft.dev/sites annotation: a policy reaches only the sites it selects', async () => {
    const v = await push({ 'db.yaml': policy('db', 5432), 'us.yaml': policy('us-only', 80, ', annotations: {weft.dev/sites: "region=us"}') });
    const id = (await t.api('POST', '/v1/rollouts', { version: v })).body.rollout.id;
    await done(id);
    const names = (a: SimAgent) => (a.bundles.at(-1)!.policies as { metadata: { name: string } }[]).map((p) => p.metadata.name).sort();
    expect(names(agents.get('us-1')!)).toEqual(['db', 'us-only']);
    expect(names(agents.get('eu-1')!)).toEqual(['db']);
  });

  it('refuses a second rollout while one runs (409) unless forced', async () => {
    const a = agents.get('us-1')!;
    const realAck = a.ack.bind(a);
    a.ack = async () => undefined;
    try {
      const v = await push({ 'db.yaml': policy('db', 6000) });
      const first = await t.api('POST', '/v1/rollouts', { version: v, selector: 'region=us' });
      expect(first.status).toBe(201);
      expect(await t.api('POST', '/v1/rollouts', { version: v })).toMatchObject({ status: 409, body: { code: 'ROLLOUT_IN_PROGRESS' } });
      expect((await t.api('POST', '/v1/rollouts', { version: v, selector: 'region=eu', force: true })).status).toBe(201);
      expect((await status(first.body.rollout.id)).rollout.state).toBe('superseded');
      expect(await t.api('POST', '/v1/rollouts', { version: v, selector: 'region=mars', force: true })).toMatchObject({
        status: 409,
        body: { code: 'ROLLOUT_NO_SITES' },
      });
    } finally {
      a.ack = realAck;
    }
  });

  it('rotates the signing key: the new key is announced before it signs, agents keep verifying, the old key stays trusted for the overlap', async () => {
    const eu1 = agents.get('eu-1')!;
    const oldKey = (await t.api('GET', '/v1/signing-keys')).body.active;
    const rot = await t.api('POST', '/v1/signing-keys/rotate');
    expect(rot.status).toBe(201);
    await eu1.until(() => eu1.trusted.has(rot.body.keyId), 'new key announced');
    expect(eu1.trusted.has(oldKey)).toBe(true);
    const v = await push({ 'db.yaml': policy('db', 7000) });
    const id = (await t.api('POST', '/v1/rollouts', { version: v, selector: 'region=eu', force: true })).body.rollout.id;
    await done(id);
    expect((await status(id)).rollout.state).toBe('completed');
    expect(eu1.rejections).toEqual([]);
    const keys = (await t.api('GET', '/v1/signing-keys')).body;
    expect(keys.active).toBe(rot.body.keyId);
    expect(keys.trusted.map((k: { keyId: string }) => k.keyId)).toEqual(expect.arrayContaining([oldKey, rot.body.keyId]));
    // Bundles now carry the new key id; an agent that never learned it would refuse them.
    const latest = JSON.parse((await t.hub.store.rollouts.latestBundle('eu-1'))!.bundle);
    expect(latest.keyId).toBe(rot.body.keyId);
  });

  it('revokes a compromised signing key in one push: agents drop it at once, the standby signs the next rollout', async () => {
    const eu1 = agents.get('eu-1')!;
    const before = (await t.api('GET', '/v1/signing-keys')).body;
    const version = eu1.keySetVersion;
    const r = await t.api('POST', `/v1/signing-keys/${before.active}/revoke`);
    expect(r.status).toBe(200);
    expect(r.body.active).not.toBe(before.active);
    // The agent trusted the standby already: the set that drops the key verifies, with a higher version.
    await eu1.until(() => !eu1.trusted.has(before.active), 'revoked key dropped');
    expect(eu1.keySetVersion).toBeGreaterThan(version);
    expect(eu1.trusted.has(r.body.active)).toBe(true);
    expect(eu1.keySetRejections.map((e) => e.message)).toEqual([]);
    const v = await push({ 'db.yaml': policy('db', 7001) });
    const id = (await t.api('POST', '/v1/rollouts', { version: v, selector: 'region=eu', force: true })).body.rollout.id;
    await done(id);
    expect((await status(id)).rollout.state).toBe('completed');
    expect(eu1.rejections).toEqual([]);
    // The only key left cannot be revoked: nothing else could sign the set that drops it.
    const rest = (await t.api('GET', '/v1/signing-keys')).body.trusted.map((k: { keyId: string }) => k.keyId);
    expect(rest.length).toBeGreaterThanOrEqual(2);
  });

  it('ignores and counts malformed acks without crashing', async () => {
    const a = agents.get('eu-2')!;
    await a.client.publishAsync('weft/v1/site/eu-2/ack', Buffer.from('{not json'), { qos: 1 });
    await a.client.publishAsync('weft/v1/site/eu-2/ack', Buffer.from(JSON.stringify({ v: 1, generation: -3, result: 'maybe', at: 'x' })), { qos: 1 });
    await eventually(
      async () =>
        /weft_hub_site_messages_malformed_total\{kind="ack",code="PROTO_BAD_FIELD"\} 1/.test(
          (await t.hub.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${t.admin}` } })).body,
        ),
      'malformed counted',
    );
    expect((await t.api('GET', '/v1/sites/eu-2')).status).toBe(200);
  });
});
