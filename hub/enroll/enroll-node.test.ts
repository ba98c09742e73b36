// Nodes of a multi-node site (issue 19): one node token for N nodes, each node its own keys, tunnel
// peer, overlay address and broker identity held to its own topics; revoking or replacing one node
// leaves the others alone. Against a real hub (API, store, embedded broker).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAsync, type MqttClient } from 'mqtt';
import { sign } from 'node:crypto';
import { encode, enrollProofMessage, topics, type EnrollRequest, type EnrollResponse } from '../../protocol/index.ts';
import { startTestHub, type TestHub } from '../testing/hub-fixture.ts';
import { deviceKeys, type DeviceKeys } from '../testing/sim-agent.ts';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub();
});
afterAll(async () => {
  await t?.close();
});

const challenge = async (): Promise<string> => (await t.api('POST', '/v1/enroll/challenge', undefined, null)).body.challenge;

async function nodeRequest(site: string, keys: DeviceKeys, nodeName: string | undefined, token?: string, withChallenge = true): Promise<EnrollRequest> {
  const base = {
    siteName: site,
    wireguardPublicKey: keys.wireguardPublicKey,
    token,
    ...(withChallenge ? { challenge: await challenge() } : {}),
    ...(nodeName === undefined ? {} : { nodeName }),
  };
  return {
    ...base,
    identityPublicKey: keys.identity.publicKey,
    agentVersion: 'test',
    proof: sign(null, Buffer.from(enrollProofMessage(base), 'utf8'), keys.identity.privateKey).toString('base64'),
  };
}

const nodeToken = async (site: string, nodes: number): Promise<string> => {
  const r = await t.api('POST', `/v1/sites/${site}/token`, { nodes });
  expect(r).toMatchObject({ status: 201, body: { nodes, provisioning: { node: true } } });
  return r.body.token;
};

function connect(e: EnrollResponse, clientId = e.broker.username): Promise<MqttClient> {
  return connectAsync(t.hub.broker.url(), { clientId, username: e.broker.username, password: e.broker.password, reconnectPeriod: 0, protocolVersion: 4 });
}

describe('nodes of a site', () => {
  const enrolled = new Map<string, EnrollResponse>();

  it('a node token enrolls N nodes, each with its own peer, overlay address and broker user; the N+1st is refused', async () => {
    expect((await t.api('POST', '/v1/sites', { name: 'plant', labels: {}, lat: 1, lon: 1 })).status).toBe(201);
    const tok = await nodeToken('plant', 2);
    for (const name of ['n1', 'n2']) {
      const keys = deviceKeys();
      const r = await t.api('POST', '/v1/enroll', await nodeRequest('plant', keys, name, tok), null);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ siteId: 'plant', node: name, broker: { username: `plant.${name}` } });
      expect(t.peers.peers.get(`plant.${name}`)?.publicKey).toBe(keys.wireguardPublicKey);
      enrolled.set(name, r.body);
    }
    expect(enrolled.get('n1')?.wireguard.addresses[0]).not.toBe(enrolled.get('n2')?.wireguard.addresses[0]);
    const third = await t.api('POST', '/v1/enroll', await nodeRequest('plant', deviceKeys(), 'n3', tok), null);
    expect(third).toMatchObject({ status: 401, body: { code: 'ENROLL_TOKEN_USED' } });
    const site = await t.api('GET', '/v1/sites/plant');
    expect(site.body).toMatchObject({ state: 'enrolled', nodeDownGraceS: 300 });
    expect(site.body.nodes.map((n: { name: string; state: string }) => [n.name, n.state])).toEqual([
      ['n1', 'enrolled'],
      ['n2', 'enrolled'],
    ]);
  });

  it('refuses a node without a challenge, a bad node name, a node token without a node name, and a one-device token with one', async () => {
    const tok = await nodeToken('plant', 1);
    expect((await t.api('POST', '/v1/enroll', await nodeRequest('plant', deviceKeys(), 'n3', tok, false), null)).body.code).toBe('ENROLL_CHALLENGE_REQUIRED');
    expect((await t.api('POST', '/v1/enroll', await nodeRequest('plant', deviceKeys(), 'N_3', tok), null)).body.code).toBe('ENROLL_NODE_NAME_INVALID');
    expect((await t.api('POST', '/v1/enroll', await nodeRequest('plant', deviceKeys(), undefined, tok), null)).body.code).toBe('ENROLL_SITE_MODE');
    await t.api('POST', '/v1/sites', { name: 'kiosk', labels: {}, lat: 1, lon: 1 });
    const one = (await t.api('POST', '/v1/sites/kiosk/token', {})).body.token;
    expect((await t.api('POST', '/v1/enroll', await nodeRequest('kiosk', deviceKeys(), 'n1', one), null)).body.code).toBe('ENROLL_SITE_MODE');
  });

  it("holds each node to its own client id and topics, and lets it hear its site's nodes", async () => {
    const n1 = enrolled.get('n1')!;
    await expect(connect(n1, 'plant.n2')).rejects.toThrow(/Not authorized|not authorized/i);
    const c1 = await connect(n1);
    const c2 = await connect(enrolled.get('n2')!);
    try {
      const heard = new Promise<string>((res) => c1.on('message', (topic) => res(topic)));
      expect((await c1.subscribeAsync(`weft/v1/site/plant/node/+/heartbeat`))[0].qos).toBe(0);
      // but not the whole site: SUBACK 0x80 for that filter
      await expect(c1.subscribeAsync('weft/v1/site/plant/#')).rejects.toThrow();
      await c2.publishAsync(topics.status('plant', 'n2'), encode('status', { v: 1, state: 'online' }), { qos: 1 });
      await c2.publishAsync(topics.heartbeat('plant', 'n2'), Buffer.from('{}'), { qos: 1 });
      expect(await heard).toBe(topics.heartbeat('plant', 'n2'));
      // speaking for another node closes the connection (MQTT 3.1.1 has no negative PUBACK)
      const closed = new Promise<void>((res) => c1.once('close', () => res()));
      c1.publish(topics.ack('plant', 'n2'), Buffer.from('{}'), { qos: 1 });
      await closed;
    } finally {
      c1.end(true);
      c2.end(true);
    }
  });

  it('revoking a node closes only its session and peer; replacing a node keeps its address and leaves the other alone', async () => {
    const c1 = await connect(enrolled.get('n1')!);
    const c2 = await connect(enrolled.get('n2')!);
    const gone = new Promise<void>((res) => c2.once('close', () => res()));
    const r = await t.api('POST', '/v1/sites/plant/nodes/n2/revoke', undefined);
    expect(r.body).toMatchObject({ name: 'n2', state: 'revoked' });
    await gone;
    expect(t.peers.peers.has('plant.n2')).toBe(false);
    expect(c1.connected).toBe(true);
    await expect(connect(enrolled.get('n2')!)).rejects.toThrow();

    const keys = deviceKeys();
    const re = await t.api('POST', '/v1/enroll', await nodeRequest('plant', keys, 'n1', await nodeToken('plant', 1)), null);
    expect(re.status).toBe(200);
    expect(re.body.wireguard.addresses).toEqual(enrolled.get('n1')?.wireguard.addresses);
    expect(t.peers.peers.get('plant.n1')?.publicKey).toBe(keys.wireguardPublicKey);
    // the old device's password is gone with it; the new one connects
    await expect(connect(enrolled.get('n1')!)).rejects.toThrow();
    (await connect(re.body)).end(true);
    c1.end(true);
    const audit = JSON.stringify((await t.api('GET', '/v1/sites/plant/timeline')).body);
    expect(audit).toContain('node.replace');
    expect(audit).toContain('node.revoke');
  });
});
