// The whole hub with a three-node NATS cluster as its broker (the hub supervising all three nodes, as
// a lab would): enrollment writes the site's derived password into the cluster's authorization and
// hands the site every node's address; a rollout reaches the site through node 2; the permission
// violations of a site show in the hub's metrics; revocation disconnects and refuses it on every node.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAsync } from 'mqtt';
import { topics } from '../protocol/index.ts';
import { findNatsServer, localClusterSpecs, type NatsBroker } from './broker/index.ts';
import { startTestHub, type TestHub } from './testing/hub-fixture.ts';
import { enrollSite } from './testing/fleet.ts';
import { eventually, SimAgent } from './testing/sim-agent.ts';

const haveNats = findNatsServer() !== null;
if (!haveNats) console.warn('skipping hub-with-NATS tests: nats-server not installed');

describe.skipIf(!haveNats)('startHub with a NATS cluster as the broker', () => {
  let t: TestHub;
  beforeAll(async () => {
    const nodes = await localClusterSpecs(3, 'hn');
    t = await startTestHub((c) => {
      c.mqtt.broker = 'nats';
      c.nats = { nodes };
    });
  }, 90_000);
  afterAll(async () => {
    await t?.close();
  });

  it('enrolls a site into the cluster, delivers its bundle through another node, counts its violations, and revocation refuses it everywhere', async () => {
    const broker = t.hub.broker as NatsBroker;
    expect(broker.kind).toBe('nats');
    const enrolled = await enrollSite(t, 'store-n1', { kind: 'store' });
    const urls = broker.nodes().map((n) => n.url);
    expect(enrolled.broker.urls).toEqual(urls);
    expect(enrolled.broker.url).toBe(urls[0]);
    const agent = await SimAgent.connect(urls[1], enrolled);
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

    // A forged status for another site: PUBACKed (MQTT 3.1.1), never delivered, counted.
    await agent.client.publishAsync(topics.status('store-other'), 'forged', { qos: 1 });
    await eventually(
      async () => /weft_broker_permission_violations_total\{kind="publish",node="hn2"\} 1/.test(await t.hub.services.registry.metrics()),
      'the violation metric',
    );

    let closed = false;
    agent.client.on('close', () => {
      closed = true;
    });
    expect((await t.api('POST', '/v1/sites/store-n1/revoke')).status).toBe(200);
    await eventually(() => closed, 'the cluster to drop the revoked site');
    for (const url of urls) {
      await expect(
        connectAsync(url, { clientId: 'store-n1', username: 'store-n1', password: enrolled.broker.password, reconnectPeriod: 0, connectTimeout: 5000 }),
      ).rejects.toThrow(/authori[sz]ed|Connection refused|Bad username/i);
    }
    await agent.close();
  });
});
