// Site links through the API, and the signed peer bundles a real hub publishes over its real broker:
// only declared links get peers, a site's report reaches its linked sites at mapped addresses, the
// relay routes (mapped blocks) are on each site's hub peer, and removing the link empties the peers.
import { createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAsync, type MqttClient } from 'mqtt';
import { verifyMesh, type MeshPayload } from '../../policy/index.ts';
import { encode, topics, type EnrollResponse, type MeshReport } from '../../protocol/index.ts';
import { enrollSite, eventually, startTestHub, type TestHub } from '../testing/index.ts';

interface Site {
  enrolled: EnrollResponse;
  client: MqttClient;
  peers: MeshPayload[];
}

async function connect(t: TestHub, enrolled: EnrollResponse): Promise<Site> {
  const client = await connectAsync(t.hub.broker.url(), {
    clientId: enrolled.siteId,
    username: enrolled.broker.username,
    password: enrolled.broker.password,
    reconnectPeriod: 0,
  });
  const trusted = new Map(
    enrolled.signingKeys.map((k) => [k.keyId, createPublicKey({ key: Buffer.from(k.publicKey, 'base64'), format: 'der', type: 'spki' })]),
  );
  const site: Site = { enrolled, client, peers: [] };
  client.on('message', (topic, payload) => {
    if (topic !== topics.peers(enrolled.siteId) || payload.length === 0) return;
    site.peers.push(verifyMesh(payload, { trustedKeys: trusted, siteId: enrolled.siteId, heldGeneration: site.peers.at(-1)?.generation ?? 0 }));
  });
  await client.subscribeAsync({ [topics.peers(enrolled.siteId)]: { qos: 1 } });
  return site;
}

const report = (pods: MeshReport['pods']): MeshReport => ({
  v: 1,
  at: new Date().toISOString(),
  exportPrefix: '10.42.0.0/24',
  endpoints: ['192.168.50.2:51820'],
  namespaces: [{ name: 'shop', labels: {} }],
  pods,
  paths: [{ peer: 'store-1', state: 'relayed', handshakeAgeS: null, since: new Date().toISOString() }],
});

describe('site links and peer bundles', () => {
  let t: TestHub;
  const sites = new Map<string, Site>();
  beforeAll(async () => {
    t = await startTestHub((c) => {
      c.meshRefreshMs = 200;
    });
    for (const [name, labels] of [
      ['store-1', { kind: 'store', region: 'north' }],
      ['store-2', { kind: 'store', region: 'south' }],
      ['wh-1', { kind: 'warehouse', region: 'north' }],
    ] as const)
      sites.set(name, await connect(t, await enrollSite(t, name, labels)));
  });
  afterAll(async () => {
    for (const s of sites.values()) await s.client.endAsync(true);
    await t?.close();
  });

  it('gives each site its mapped block on its hub peer (the relay)', () => {
    expect(t.peers.peers.get('store-1')?.routed).toEqual(['100.64.2.0/24']);
    expect(t.peers.peers.get('wh-1')?.routed).toEqual(['100.64.4.0/24']);
  });

  it('refuses bad links with a code, and pairs with an unknown site', async () => {
    expect((await t.api('POST', '/v1/links', { a: 'store-1', b: 'store-1' })).body.code).toBe('LINK_INVALID');
    expect((await t.api('POST', '/v1/links', { from: {}, to: { kind: 'warehouse' } })).body.code).toBe('LINK_INVALID');
    expect((await t.api('POST', '/v1/links', { a: 'store-1', b: 'nope' })).body.code).toBe('SITE_NOT_FOUND');
    expect((await t.api('DELETE', '/v1/links/999')).body.code).toBe('LINK_NOT_FOUND');
    expect((await t.api('GET', '/v1/links')).body).toEqual({ links: [], pairs: [] });
  });

  it('a selector link gives peers to the matching sites only, with pods at mapped addresses', async () => {
    const w = sites.get('wh-1')!;
    await w.client.publishAsync(topics.mesh('wh-1'), encode('mesh', report([{ namespace: 'shop', name: 'db-0', labels: { app: 'db' }, ips: ['10.42.0.9'] }])), {
      qos: 1,
      retain: true,
    });
    const r = await t.api('POST', '/v1/links', { from: { kind: 'store' }, to: { kind: 'warehouse' }, same: ['region'] });
    expect(r.status).toBe(201);
    const s1 = sites.get('store-1')!;
    await eventually(() => s1.peers.at(-1)?.peers[0]?.pods.length === 1, 'store-1 gets its warehouse and its pods');
    const peer = s1.peers.at(-1)!.peers[0];
    expect(peer).toMatchObject({
      siteId: 'wh-1',
      endpoints: ['192.168.50.2:51820'],
      overlay: ['10.99.0.4/32', 'fd00:99::4/128'],
      mappedPrefix: '100.64.4.0/24',
      pods: [{ namespace: 'shop', name: 'db-0', labels: { app: 'db' }, ips: ['100.64.4.9'] }],
    });
    await eventually(
      () =>
        w.peers
          .at(-1)
          ?.peers.map((p) => p.siteId)
          .join() === 'store-1',
      'wh-1 gets store-1 (not store-2: other region)',
    );
    expect(sites.get('store-2')!.peers.at(-1)?.peers ?? []).toEqual([]);
    const view = await t.api('GET', '/v1/links');
    expect(view.body.pairs).toEqual([
      {
        a: 'store-1',
        b: 'wh-1',
        links: [r.body.id],
        paths: [
          { from: 'store-1', to: 'wh-1', state: 'unknown', handshakeAgeS: null, since: null },
          { from: 'wh-1', to: 'store-1', state: 'relayed', handshakeAgeS: null, since: expect.any(String) },
        ],
      },
    ]);
    // The link removed: peers go away.
    expect((await t.api('DELETE', `/v1/links/${r.body.id}`)).status).toBe(204);
    await eventually(() => s1.peers.at(-1)?.peers.length === 0, 'store-1 loses its peer');
  });

  it('shows the path each site reports', async () => {
    const r = await t.api('POST', '/v1/links', { a: 'store-1', b: 'wh-1' });
    expect(r.status).toBe(201);
    await eventually(async () => (await t.api('GET', '/v1/links')).body.pairs[0]?.paths[1]?.state === 'relayed', 'the path wh-1 reported');
  });
});
