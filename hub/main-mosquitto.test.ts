// The whole hub with Mosquitto as its broker: enrollment writes the site's credentials into
// Mosquitto's files and reloads it before the agent connects, rollouts reach the site through it,
// and revocation disconnects and refuses the site.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAsync } from 'mqtt';
import { findMosquitto } from './broker/mosquitto.ts';
import { startTestHub, type TestHub } from './testing/hub-fixture.ts';
import { enrollSite } from './testing/fleet.ts';
import { eventually, SimAgent } from './testing/sim-agent.ts';

const haveMosquitto = findMosquitto() !== null;
if (!haveMosquitto) console.warn('skipping hub-with-Mosquitto tests: mosquitto not installed');

describe.skipIf(!haveMosquitto)('startHub with Mosquitto as the broker', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub((c) => {
      c.mqtt.broker = 'mosquitto';
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('enrolls a site into Mosquitto, delivers its bundle, and revocation disconnects and refuses it', async () => {
    expect(t.hub.broker.kind).toBe('mosquitto');
    const enrolled = await enrollSite(t, 'store-m1', { kind: 'store' });
    const agent = await SimAgent.connect(t.hub.broker.url(), enrolled);
    const v = (
      await t.api('POST', '/v1/policies', {
        message: 'm',
        files: [
          { name: 'a.yaml', content: 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a, namespace: x}\nspec: {podSelector: {}}\n' },
        ],
      })
    ).body.version;
    const r = await t.api('POST', '/v1/rollouts', { version: v, selector: 'kind=store' });
    expect(r.status).toBe(201);
    await eventually(async () => (await t.api('GET', `/v1/rollouts/${r.body.rollout.id}`)).body.rollout.state === 'completed', 'the rollout to complete');
    expect(agent.applied).toBeGreaterThan(0);

    let closed = false;
    agent.client.on('close', () => {
      closed = true;
    });
    expect((await t.api('POST', '/v1/sites/store-m1/revoke')).status).toBe(200);
    await eventually(() => closed, 'Mosquitto to drop the revoked site');
    await expect(
      connectAsync(t.hub.broker.url(), {
        clientId: 'store-m1',
        username: 'store-m1',
        password: enrolled.broker.password,
        reconnectPeriod: 0,
        connectTimeout: 5000,
      }),
    ).rejects.toThrow(/authori[sz]ed|Connection refused|Bad username/i);
    await agent.close();
  });
});
