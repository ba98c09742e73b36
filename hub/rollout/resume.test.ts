import { afterAll, describe, expect, it } from 'vitest';
import type { EnrollResponse } from '../../protocol/index.ts';
import { startTestHub, type TestHub } from '../testing/hub-fixture.ts';
import { enrollSite } from '../testing/fleet.ts';
import { eventually, SimAgent } from '../testing/sim-agent.ts';

const NETPOL = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec: {podSelector: {}, policyTypes: [Ingress]}
`;

let t: TestHub | undefined;
const agents: SimAgent[] = [];
afterAll(async () => {
  for (const a of agents) await a.close();
  await t?.close();
});

describe('rollout across a hub restart', () => {
  it('resumes an in-flight rollout: republishes, counts the applied generation from heartbeats, then finishes the next stages', async () => {
    t = await startTestHub();
    const enrolled = new Map<string, EnrollResponse>();
    for (const n of ['s-1', 's-2', 's-3']) enrolled.set(n, await enrollSite(t, n, { kind: 'store' }));
    // s-1 applies but its ack is lost (it never sends one): the canary stage cannot pass before the restart.
    const s1 = await SimAgent.connect(t.hub.broker.url(), enrolled.get('s-1')!, { silent: true });
    agents.push(s1);
    const v = (await t.api('POST', '/v1/policies', { files: [{ name: 'a.yaml', content: NETPOL }], message: 'isolate' })).body.version;
    const id = (await t.api('POST', '/v1/rollouts', { version: v, canary: ['s-1'] })).body.rollout.id;
    await s1.until(() => s1.applied > 0, 'canary bundle');
    const gen = s1.applied;
    expect(await t.hub.store.rollouts.get(id)).toMatchObject({ state: 'running', stage: 0 });

    const port = t.hub.broker.port;
    await s1.close();
    await t.stop();
    await t.restart((c) => {
      c.mqtt.port = port;
    });

    // The restarted hub republishes the unacked bundle (same generation) and listens for heartbeats.
    const back = await SimAgent.connect(t.hub.broker.url(), enrolled.get('s-1')!, { appliedGeneration: gen });
    agents.push(back);
    await back.until(() => back.rejections.length > 0, 'the republished bundle');
    expect(back.rejections[0].code).toBe('BUNDLE_STALE_GENERATION');
    const others = await Promise.all(['s-2', 's-3'].map((n) => SimAgent.connect(t!.hub.broker.url(), enrolled.get(n)!)));
    agents.push(...others);
    await back.heartbeat();
    await eventually(async () => (await t!.hub.store.rollouts.get(id))!.state === 'completed', 'rollout to complete after restart');
    const sites = await t.hub.store.rollouts.sites(id);
    expect(sites.find((s) => s.siteId === 's-1')).toMatchObject({ generation: gen, result: 'applied', reason: 'confirmed by heartbeat' });
    for (const o of others) expect(o.bundles.at(-1)).toMatchObject({ policyVersion: v, generation: 1 });

    // Another restart: the embedded broker forgets retained messages, the hub publishes every site's
    // latest bundle again, so a replaced appliance (empty store) that subscribes finds it.
    for (const a of agents.splice(0)) await a.close();
    await t.stop();
    await t.restart((c) => {
      c.mqtt.port = port;
    });
    const fresh = await SimAgent.connect(t.hub.broker.url(), enrolled.get('s-2')!);
    agents.push(fresh);
    await fresh.until(() => fresh.bundles.length > 0, 'the retained bundle after a restart');
    expect(fresh.bundles[0]).toMatchObject({ siteId: 's-2', policyVersion: v, generation: 1 });
  });
});
