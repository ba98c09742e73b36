// The optional audit window: after every site of a stage acked `applied`, the rollout holds the
// stage for the window (ops watch drops with `weft flows`) before the next stage starts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../testing/hub-fixture.ts';
import { fleet } from '../testing/fleet.ts';
import { eventually, type SimAgent } from '../testing/sim-agent.ts';

let t: TestHub;
let agents: Map<string, SimAgent>;
// The hub's clock, moved by the test: the window is 10 minutes and must not take 10 minutes.
let clock = Date.parse('2026-06-01T00:00:00Z');

beforeAll(async () => {
  t = await startTestHub((c) => {
    c.now = () => clock;
  });
  agents = await fleet(t, ['aw-1', 'aw-2'], () => ({ kind: 'store' }));
});
afterAll(async () => {
  for (const a of agents?.values() ?? []) await a.close();
  await t?.close();
});

describe('audit window', () => {
  it('holds a fully acked stage until the window has passed, then moves on', async () => {
    const v = (
      await t.api('POST', '/v1/policies', {
        message: 'm',
        files: [
          { name: 'a.yaml', content: 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a, namespace: x}\nspec: {podSelector: {}}\n' },
        ],
      })
    ).body.version;
    const r = await t.api('POST', '/v1/rollouts', { version: v, selector: 'kind=store', canary: ['aw-1'], auditWindowS: 600 });
    expect(r.status).toBe(201);
    const id = r.body.rollout.id;
    const status = async () => (await t.api('GET', `/v1/rollouts/${id}`)).body;
    await eventually(async () => (await status()).stages[0].applied === 1, 'the canary ack');
    await eventually(async () => (await status()).rollout.stageAckedAt !== null, 'the stage to be marked acked');
    // Several periodic ticks (200 ms each) inside the window: still the canary stage, nothing sent to aw-2.
    await new Promise((res) => setTimeout(res, 1000));
    expect((await status()).rollout).toMatchObject({ stage: 0, state: 'running' });
    expect(agents.get('aw-2')!.bundles).toHaveLength(0);

    clock += 601_000;
    await eventually(async () => (await status()).rollout.stage === 1, 'the next stage after the window');
    await agents.get('aw-2')!.until(() => agents.get('aw-2')!.bundles.length === 1, 'the bundle of the second stage');
    // The last stage has its own window too.
    await eventually(async () => (await status()).stages[1].applied === 1, 'the second ack');
    await new Promise((res) => setTimeout(res, 600));
    expect((await status()).rollout.state).toBe('running');
    clock += 601_000;
    await eventually(async () => (await status()).rollout.state === 'completed', 'completion after the second window');
  });
});
