// The whole hub with a three-node NATS cluster as its broker (the hub supervising all three nodes, as
// a lab would): enrollment writes the site's derived password into the cluster's authorization and
// hands the site every node's address; a rollout reaches the site through node 2; the permission
// violations of a site show in the hub's metrics; revocation disconnects and refuses it on every node;
// a weft-router process with the read-only router user builds site health from the cluster.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAsync } from 'mqtt';
import { topics } from '../protocol/index.ts';
import { findNatsServer, localClusterSpecs, type NatsBroker } from './broker/index.ts';
import { startTestHub, type TestHub } from './testing/hub-fixture.ts';
import { enrollSite } from './testing/fleet.ts';
import { deviceKeys, enrollRequest, eventually, SimAgent } from './testing/sim-agent.ts';
import type { EnrollResponse } from '../protocol/index.ts';

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

  it('feeds a weft-router process logged in as the read-only router user: it sees a site come online', async () => {
    const broker = t.hub.broker as NatsBroker;
    await t.api('POST', '/v1/sites', {
      name: 'store-r1',
      lat: 52.5,
      lon: 13.4,
      services: [{ name: 'pos', addresses: ['10.0.0.1'], url: 'https://r1.example.com' }],
    });
    const tok = (await t.api('POST', '/v1/sites/store-r1/token', {})).body.token;
    const enrolled: EnrollResponse = (await t.api('POST', '/v1/enroll', enrollRequest('store-r1', deviceKeys(), tok), null)).body;
    writeFileSync(join(t.dir, 'router-sites.json'), JSON.stringify((await t.api('GET', '/v1/sites')).body));
    writeFileSync(join(t.dir, 'router.yaml'), JSON.stringify({ zone: 'svc.test', defaultLocation: { lat: 52, lon: 12 } }));
    const urls = broker.nodes().map((n) => n.url);
    const proc = spawn(
      process.execPath,
      [
        'bin/weft-router.mjs',
        ...['--config', join(t.dir, 'router.yaml'), '--sites', join(t.dir, 'router-sites.json'), '--broker', urls[2], '--broker', urls[0]],
        ...['--broker-user', '_weft_router', '--broker-password-file', join(t.hub.config.dataDir, 'nats', 'router-password')],
        ...['--dns-port', '0', '--http-port', '0', '--log-level', 'warn'],
      ],
      { cwd: resolve(import.meta.dirname, '..'), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      let out = '';
      proc.stdout?.on('data', (d) => {
        out += d;
      });
      await eventually(() => /HTTP (http:\/\/\S+?),/.test(out), 'weft-router to start', 30_000);
      const http = /HTTP (http:\/\/\S+?),/.exec(out)?.[1] as string;
      const health = async () =>
        ((await (await fetch(`${http}/v1/route?service=pos&ip=198.51.100.7`)).json()) as { candidates: { siteId: string; health: string }[] }).candidates.find(
          (c) => c.siteId === 'store-r1',
        )?.health;
      expect(await health()).not.toBe('online');
      const agent = await SimAgent.connect(urls[1], enrolled);
      await agent.heartbeat();
      await agent.heartbeat();
      await eventually(async () => (await health()) === 'online', 'the standalone router to see store-r1 online', 15_000);
      await agent.close();
    } finally {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    }
  }, 60_000);
});
