// Hub replicas on one PostgreSQL (a throwaway cluster: root, so the kernel project), in one process:
// the API answers on each; a site enrolled through one replica gets every hub node as a tunnel peer and
// becomes a peer of the other node within a tick; its health, seen by one replica, is known to a
// replica that starts later before any heartbeat reaches that one; a revocation through one replica
// removes the peer on the other.
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from './store/testing/postgres.ts';
import { startTestHub, type TestHub } from './testing/hub-fixture.ts';
import { enrollSite } from './testing/fleet.ts';
import { eventually, SimAgent } from './testing/sim-agent.ts';

let pgc: TestPostgres;
const hubs: TestHub[] = [];
beforeAll(async () => {
  pgc = await startPostgres();
});
afterAll(async () => {
  for (const h of hubs.reverse()) await h.close().catch(() => {});
  pgc?.remove();
});

describe('hub replicas on one PostgreSQL', () => {
  it('share sites, enrollment peers, health and revocations through the store', { timeout: 120_000 }, async () => {
    const url = await pgc.createDatabase('replicas');
    const node = async (name: string, overlayIndex: number, from?: TestHub) => {
      const t = await startTestHub((c) => {
        c.store = url;
        c.node = { name, overlayIndex };
        c.wireguard.endpoint = `198.18.0.${overlayIndex - 65530}:51820`;
        // What replicas share besides the store (docs/ops.md): the signing keys; the first admin token was
        // written once, by the first hub.
        if (from) {
          cpSync(join(from.dir, 'signing-keys'), join(c.dataDir, 'signing-keys'), { recursive: true });
          cpSync(join(from.dir, 'admin-token'), join(c.dataDir, 'admin-token'));
        }
      });
      hubs.push(t);
      return t;
    };
    const a = await node('hub-a', 65534);
    const b = await node('hub-b', 65533, a);

    // The API answers on each replica, from the one store.
    const enrolled = await enrollSite(a, 'store-1', { region: 'eu' });
    expect((await b.api('GET', '/v1/sites')).body.map((s: { name: string }) => s.name)).toEqual(['store-1']);
    // Every registered node is a peer of the site's tunnel, each with its own address; the broker's
    // address is the shared hub address.
    expect(enrolled.wireguard.hubs?.map((h) => [h.name, h.endpoint, h.addresses[0]])).toEqual([
      ['hub-a', '198.18.0.4:51820', '10.99.255.254/32'],
      ['hub-b', '198.18.0.3:51820', '10.99.255.253/32'],
    ]);
    expect(enrolled.wireguard.hubAddresses[0]).toBe('10.99.0.1/32');
    expect(enrolled.wireguard.addresses[0]).toBe('10.99.0.2/32');
    // Enrolled through a: a's peer at once, b's at its next tick.
    expect(a.peers.peers.get('store-1')?.publicKey).toBeDefined();
    await eventually(() => b.peers.peers.has('store-1'), 'hub b to add the peer of a site enrolled through hub a', 5000);
    expect(b.peers.peers.get('store-1')).toEqual(a.peers.peers.get('store-1'));

    // The site talks to hub a's broker only: a sees it online and writes it to the store.
    const agent = await SimAgent.connect(a.hub.broker.url(), enrolled);
    for (let i = 0; i < 3; i++) await agent.heartbeat();
    await eventually(() => a.hub.health.get('store-1')?.health === 'online', 'hub a to see the site online');
    await eventually(async () => (await a.hub.store.cluster.health()).some((h) => h.siteId === 'store-1' && h.health === 'online'), 'the health in the store');
    // A replica that starts now knows it before any heartbeat reaches it (the site is not on its broker).
    const c = await node('hub-c', 65532, a);
    expect(c.hub.health.get('store-1')).toMatchObject({ health: 'online' });
    expect(c.hub.sitesView.get('store-1')?.health).toBe('online');
    await agent.close();

    // Revoked through b: a drops the peer at its next tick.
    expect((await b.api('POST', '/v1/sites/store-1/revoke', {})).status).toBe(200);
    await eventually(() => !a.peers.peers.has('store-1'), 'hub a to drop the peer of a site revoked through hub b', 5000);
    await eventually(() => !c.peers.peers.has('store-1'), 'hub c too', 5000);
    // A node's own address is never a site's, and two nodes cannot share one.
    await expect(node('hub-d', 65534, a)).rejects.toThrow(/hub node hub-a has it/);
  });
});
