// Enrollment against a real hub (HTTPS routes, SQLite, broker): what one device, or someone replaying
// its requests, must not be able to do to other sites, to the hub's next start, or to its own link.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAsync } from 'mqtt';
import type { EnrollResponse } from '../../protocol/index.ts';
import { startTestHub, type TestHub } from '../testing/hub-fixture.ts';
import { deviceKeys, enrollRequest, type DeviceKeys } from '../testing/sim-agent.ts';
import { MemoryPeers } from './peers.ts';

let t: TestHub;
const site = (name: string) => ({ name, labels: { region: 'eu' }, lat: 48.1, lon: 11.6 });

beforeAll(async () => {
  t = await startTestHub();
  for (const n of ['site-a', 'site-d', 'site-r', 'site-p', 'site-t']) expect((await t.api('POST', '/v1/sites', site(n))).status).toBe(201);
});
afterAll(async () => {
  await t?.close();
});

async function token(id: string): Promise<string> {
  return (await t.api('POST', `/v1/sites/${id}/token`, {})).body.token;
}
async function challenge(): Promise<string> {
  const r = await t.api('POST', '/v1/enroll/challenge', undefined, null);
  expect(r.status).toBe(200);
  return r.body.challenge;
}
async function enrollNew(name: string, keys = deviceKeys()): Promise<{ keys: DeviceKeys; body: EnrollResponse }> {
  const r = await t.api('POST', '/v1/enroll', enrollRequest(name, keys, await token(name)), null);
  expect(r.status).toBe(200);
  return { keys, body: r.body };
}
/** Does the broker accept this password for the site? */
async function brokerAccepts(siteId: string, password: string): Promise<boolean> {
  try {
    const c = await connectAsync(t.hub.broker.url(), { clientId: `${siteId}.probe`, username: siteId, password, reconnectPeriod: 0 });
    await c.endAsync();
    return true;
  } catch {
    return false;
  }
}

describe('enrollment cannot break another site or the next start (issue 15.1)', () => {
  it("refuses another site's WireGuard key or an unusable one, and changes nothing: keys, peer and password stay", async () => {
    const a = await enrollNew('site-a');
    const d = await enrollNew('site-d');
    const before = await t.hub.store.sites.get('site-d');
    const stolen = { ...d.keys, wireguardPublicKey: a.keys.wireguardPublicKey };
    const r = await t.api('POST', '/v1/enroll', enrollRequest('site-d', stolen, undefined, await challenge()), null);
    expect(r).toMatchObject({ status: 409, body: { code: 'ENROLL_WG_KEY_IN_USE' } });
    for (const bad of [Buffer.alloc(32).toString('base64'), `${'A'.repeat(42)}B=`, Buffer.alloc(31, 7).toString('base64')]) {
      const q = await t.api('POST', '/v1/enroll', enrollRequest('site-d', { ...d.keys, wireguardPublicKey: bad }, undefined, await challenge()), null);
      expect(q.body.code).toBe('ENROLL_WG_KEY_INVALID');
    }
    expect(await t.hub.store.sites.get('site-d')).toEqual(before);
    expect(t.peers.peers.get('site-d')?.publicKey).toBe(d.keys.wireguardPublicKey);
    expect(t.peers.peers.get('site-a')?.publicKey).toBe(a.keys.wireguardPublicKey);
    expect(await brokerAccepts('site-d', d.body.broker.password)).toBe(true);
  });

  it('a tunnel that refuses the peer fails the enrollment with nothing changed: the token stays usable', async () => {
    const tok = await token('site-p');
    const add = t.peers.addPeer.bind(t.peers);
    t.peers.addPeer = async () => {
      throw new Error('interface down');
    };
    const keys = deviceKeys();
    const r = await t.api('POST', '/v1/enroll', enrollRequest('site-p', keys, tok), null).finally(() => {
      t.peers.addPeer = add;
    });
    expect(r).toMatchObject({ status: 503, body: { code: 'ENROLL_PEER_UNAVAILABLE' } });
    expect(await t.hub.store.sites.get('site-p')).toMatchObject({ state: 'pending', identityKey: null, wireguardKey: null });
    expect(await t.hub.store.sites.credentialHash('site-p')).toBeUndefined();
    expect((await t.api('POST', '/v1/enroll', enrollRequest('site-p', keys, tok), null)).status).toBe(200);
  });

  it('starts with a stored key the tunnel refuses: reports that site, configures the others', async () => {
    // A database written before keys were checked: site-d holds site-a's key.
    await t.hub.store.sites.update('site-d', { wireguardKey: (await t.hub.store.sites.get('site-a'))!.wireguardKey });
    await t.stop();
    const strict = new (class extends MemoryPeers {
      override async addPeer(siteId: string, publicKey: string, addresses: string[]): Promise<void> {
        const clash = [...this.peers].find(([id, p]) => id !== siteId && p.publicKey === publicKey);
        if (clash) throw new Error(`site ${siteId} presents the public key of site ${clash[0]}`);
        await super.addPeer(siteId, publicKey, addresses);
      }
    })();
    await t.restart((c) => {
      c.wireguard.peers = strict;
    });
    expect([...strict.peers.keys()].sort()).toEqual(['site-a', 'site-p']);
    const metrics = await t.hub.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${t.admin}` } });
    expect(metrics.body).toContain('weft_hub_peer_start_failures_total 1');
    await t.stop();
    await t.restart();
  });
});

describe('enrollment requests cannot be replayed (issue 15.7, 15.9)', () => {
  it('replaying the first enrollment is refused and the device keeps its password', async () => {
    const keys = deviceKeys();
    const first = enrollRequest('site-r', keys, await token('site-r'));
    const ok = await t.api('POST', '/v1/enroll', first, null);
    expect(ok.status).toBe(200);
    expect(await t.api('POST', '/v1/enroll', first, null)).toMatchObject({ status: 401, body: { code: 'ENROLL_TOKEN_USED' } });
    // Without the token, a proof with no challenge is refused too.
    const noTok = enrollRequest('site-r', keys);
    expect(await t.api('POST', '/v1/enroll', noTok, null)).toMatchObject({ status: 401, body: { code: 'ENROLL_CHALLENGE_REQUIRED' } });
    expect(await brokerAccepts('site-r', ok.body.broker.password)).toBe(true);
  });

  it('a re-enrollment spends its challenge once, and the old password works until the new one is used', async () => {
    const keys = deviceKeys();
    const first = await t.api('POST', '/v1/enroll', enrollRequest('site-t', keys, await token('site-t')), null);
    const re = enrollRequest('site-t', keys, undefined, await challenge());
    const renewed = await t.api('POST', '/v1/enroll', re, null);
    expect(renewed.status).toBe(200);
    expect(await t.api('POST', '/v1/enroll', re, null)).toMatchObject({ status: 401, body: { code: 'ENROLL_CHALLENGE_INVALID' } });
    // The answer might never have reached the device: its working password still works...
    expect(await brokerAccepts('site-t', first.body.broker.password)).toBe(true);
    // ...until the device uses the new one, which proves it has it.
    expect(await brokerAccepts('site-t', renewed.body.broker.password)).toBe(true);
    expect(await brokerAccepts('site-t', first.body.broker.password)).toBe(false);
    expect(await brokerAccepts('site-t', renewed.body.broker.password)).toBe(true);
    // A device retrying with its (used) token after a lost answer gets through with a fresh challenge.
    const tok2 = await token('site-t');
    expect((await t.api('POST', '/v1/enroll', enrollRequest('site-t', keys, tok2), null)).status).toBe(200);
    expect((await t.api('POST', '/v1/enroll', enrollRequest('site-t', keys, tok2, await challenge()), null)).status).toBe(200);
  });

  it('an older token dies when a newer one is used: a second device cannot take the site', async () => {
    await t.api('POST', '/v1/sites', site('site-o'));
    const older = await token('site-o');
    const newer = await token('site-o');
    expect((await t.api('POST', '/v1/enroll', enrollRequest('site-o', deviceKeys(), newer), null)).status).toBe(200);
    expect(await t.api('POST', '/v1/enroll', enrollRequest('site-o', deviceKeys(), older), null)).toMatchObject({
      status: 401,
      body: { code: 'ENROLL_TOKEN_USED' },
    });
  });

  it('does not tell which site names exist', async () => {
    const answer = async (name: string) => {
      const r = await t.api('POST', '/v1/enroll', enrollRequest(name, deviceKeys(), undefined, await challenge()), null);
      return { status: r.status, code: r.body.code, message: r.body.message.replace(name, '<name>') };
    };
    // site-o is enrolled, site-x pending, nosuch does not exist.
    await t.api('POST', '/v1/sites', site('site-x'));
    const want = await answer('nosuch');
    expect(want.code).toBe('ENROLL_TOKEN_INVALID');
    expect(await answer('site-o')).toEqual(want);
    expect(await answer('site-x')).toEqual(want);
    const bad = (name: string) => t.api('POST', '/v1/enroll', enrollRequest(name, deviceKeys(), 'wenr_nope'), null).then((r) => r.body.code);
    expect(await bad('nosuch')).toBe(await bad('site-o'));
  });
});
