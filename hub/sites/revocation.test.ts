import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAsync } from 'mqtt';
import { topics } from '../../protocol/index.ts';
import { startTestHub, type TestHub } from '../testing/hub-fixture.ts';
import { enrollSite } from '../testing/fleet.ts';
import { eventually, SimAgent } from '../testing/sim-agent.ts';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub();
});
afterAll(async () => {
  await t?.close();
});

describe('revocation', () => {
  it('closes the broker session and refuses the site, removes its tunnel peer and its route, and clears its bundle', async () => {
    const enrolled = await enrollSite(t, 'store-7', { region: 'eu' });
    await t.api('POST', '/v1/sites', { name: 'store-8', services: [{ name: 'pos', addresses: ['10.8.0.5'] }] });
    const agent = await SimAgent.connect(t.hub.broker.url(), enrolled);
    const v = (
      await t.api('POST', '/v1/policies', {
        message: 'm',
        files: [
          { name: 'a.yaml', content: 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a, namespace: x}\nspec: {podSelector: {}}\n' },
        ],
      })
    ).body.version;
    await t.api('POST', '/v1/rollouts', { version: v, selector: 'region=eu' });
    await agent.until(() => agent.applied > 0, 'bundle');
    expect(t.peers.peers.has('store-7')).toBe(true);
    expect(t.hub.sitesView.get('store-7')).toBeDefined();
    const removed: string[] = [];
    t.hub.services.sites.on('removed', (id: string) => removed.push(id));
    let closed = false;
    agent.client.on('close', () => {
      closed = true;
    });

    const r = await t.api('POST', '/v1/sites/store-7/revoke');
    expect(r).toMatchObject({ status: 200, body: { state: 'revoked' } });
    await eventually(() => closed, 'the broker to close the session');
    expect(t.peers.peers.has('store-7')).toBe(false);
    expect(removed).toEqual(['store-7']);
    expect(t.hub.sitesView.get('store-7')).toBeUndefined();
    expect(t.hub.sitesView.get('store-8')).toBeDefined();
    expect(await t.hub.store.sites.credentialHash('store-7')).toBeUndefined();
    await expect(
      connectAsync(t.hub.broker.url(), {
        clientId: 'store-7',
        username: 'store-7',
        password: enrolled.broker.password,
        reconnectPeriod: 0,
      }),
    ).rejects.toThrow(/authori[sz]ed|Connection refused/i);
    // The retained bundle is gone: a fresh subscriber gets nothing for the revoked site.
    const hubClient = await t.hub.broker.hubClient();
    const got: Buffer[] = [];
    hubClient.on('message', (topic, p) => {
      if (topic === topics.bundle('store-7')) got.push(p);
    });
    await hubClient.subscribeAsync(topics.bundle('store-7'), { qos: 1 });
    await hubClient.publishAsync('weft/v1/broadcast/ping', Buffer.from('x'), { qos: 1 });
    expect(got).toEqual([]);
    await hubClient.endAsync();
    expect((await t.api('GET', '/v1/audit?target=site/store-7')).body[0]).toMatchObject({
      action: 'site.revoke',
      actor: expect.stringContaining('bootstrap-admin'),
    });
    // Revoking twice is harmless; tokens for a revoked site are refused.
    expect((await t.api('POST', '/v1/sites/store-7/revoke')).status).toBe(200);
    expect((await t.api('POST', '/v1/sites/store-7/token', {})).body.code).toBe('SITE_REVOKED');
    await agent.close();
  });

  it('drain and undrain change the routing view and are audited', async () => {
    await t.api('POST', '/v1/sites', { name: 'store-9' });
    expect((await t.api('POST', '/v1/sites/store-9/drain')).body.drained).toBe(true);
    expect((await t.hub.services.sites.routable()).find((s) => s.id === 'store-9')?.draining).toBe(true);
    expect((await t.api('POST', '/v1/sites/store-9/undrain')).body.drained).toBe(false);
    const actions = (await t.api('GET', '/v1/audit?target=site/store-9')).body.map((e: { action: string }) => e.action);
    expect(actions).toEqual(['site.undrain', 'site.drain', 'site.create']);
  });
});
