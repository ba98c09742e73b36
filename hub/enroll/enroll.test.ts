import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAsync } from 'mqtt';
import { startTestHub, type TestHub } from '../testing/hub-fixture.ts';
import { deviceKeys, enrollRequest, SimAgent } from '../testing/sim-agent.ts';

async function challenge(): Promise<string> {
  return (await t.api('POST', '/v1/enroll/challenge', undefined, null)).body.challenge;
}

let t: TestHub;
let clock = Date.parse('2026-06-01T00:00:00Z');
/** A token issued to store-1 before it was revoked: its holder is told the site is revoked. */
let revokedSiteToken = '';
const site = (name: string, extra: object = {}) => ({ name, labels: { region: 'eu' }, lat: 48.1, lon: 11.6, ...extra });

beforeAll(async () => {
  // A /30 overlay holds exactly one site: the second enrollment fails inside its transaction.
  t = await startTestHub((c) => {
    c.overlayV4 = '10.77.0.0/30';
    c.now = () => clock;
  });
});
afterAll(async () => {
  await t?.close();
});

async function token(id: string, ttlS?: number): Promise<string> {
  const r = await t.api('POST', `/v1/sites/${id}/token`, ttlS ? { ttlS } : {});
  expect(r.status).toBe(201);
  expect(r.body.provisioning).toMatchObject({ v: 1, siteName: id, caFingerprint: t.hub.caFingerprint, hubUrl: expect.stringMatching(/^https:\/\//) });
  return r.body.token;
}

describe('enrollment', () => {
  it('enrolls with a one-time token, returns working broker credentials and tunnel config, and refuses the token a second time', async () => {
    expect((await t.api('POST', '/v1/sites', site('store-1'))).status).toBe(201);
    const tok = await token('store-1');
    const keys = deviceKeys();
    const r = await t.api('POST', '/v1/enroll', enrollRequest('store-1', keys, tok), null);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      siteId: 'store-1',
      broker: { username: 'store-1', url: expect.stringMatching(/^mqtt:\/\/10\.77\.0\.1:\d+$/) },
      wireguard: { addresses: ['10.77.0.2/32', 'fd00:99::2/128'], hubAddresses: ['10.77.0.1/32', 'fd00:99::1/128'] },
      heartbeatIntervalS: 5,
    });
    expect(r.body.signingKeys).toHaveLength(2); // the active key and the standby
    expect(r.body.signingKeysVersion).toBe(2);
    expect(t.peers.peers.get('store-1')).toEqual({
      publicKey: keys.wireguardPublicKey,
      addresses: ['10.77.0.2/32', 'fd00:99::2/128'],
      routed: ['100.64.2.0/24'],
    });
    // The credentials work on the real broker.
    const agent = await SimAgent.connect(t.hub.broker.url(), r.body);
    await agent.close();
    // Stored hashed: the password appears nowhere in the store.
    expect(await t.hub.store.sites.credentialHash('store-1')).not.toContain(r.body.broker.password);

    const again = await t.api('POST', '/v1/enroll', enrollRequest('store-1', deviceKeys(), tok), null);
    expect(again).toMatchObject({ status: 401, body: { code: 'ENROLL_TOKEN_USED' } });
  });

  it('re-enrolls the same device key without a token (new password, with a challenge), and refuses a different key without one', async () => {
    const keys = deviceKeys();
    const tok = await token('store-1');
    expect((await t.api('POST', '/v1/enroll', enrollRequest('store-1', keys, tok), null)).status).toBe(200);
    const re = await t.api('POST', '/v1/enroll', enrollRequest('store-1', keys, undefined, await challenge()), null);
    expect(re.status).toBe(200);
    expect(re.body.wireguard.addresses[0]).toBe('10.77.0.2/32');
    const other = await t.api('POST', '/v1/enroll', enrollRequest('store-1', deviceKeys(), undefined, await challenge()), null);
    expect(other).toMatchObject({ status: 401, body: { code: 'ENROLL_TOKEN_INVALID' } });
    // A replacement device with a fresh token takes over the site.
    const replacement = deviceKeys();
    const ok = await t.api('POST', '/v1/enroll', enrollRequest('store-1', replacement, await token('store-1')), null);
    expect(ok.status).toBe(200);
    expect(t.peers.peers.get('store-1')?.publicKey).toBe(replacement.wireguardPublicKey);
    expect((await t.api('POST', '/v1/enroll', enrollRequest('store-1', keys, undefined, await challenge()), null)).body.code).toBe('ENROLL_TOKEN_INVALID');
  });

  it('refuses an expired token, a token for another site, a forged proof, and a missing token', async () => {
    await t.api('POST', '/v1/sites', site('store-2'));
    const expired = await token('store-2', 60);
    clock += 61_000;
    expect((await t.api('POST', '/v1/enroll', enrollRequest('store-2', deviceKeys(), expired), null)).body.code).toBe('ENROLL_TOKEN_EXPIRED');
    const forStore1 = await token('store-1');
    expect(await t.api('POST', '/v1/enroll', enrollRequest('store-2', deviceKeys(), forStore1), null)).toMatchObject({
      status: 403,
      body: { code: 'ENROLL_SITE_MISMATCH' },
    });
    const tok = await token('store-2');
    const forged = { ...enrollRequest('store-2', deviceKeys(), tok), identityPublicKey: deviceKeys().identity.publicKey };
    expect((await t.api('POST', '/v1/enroll', forged, null)).body.code).toBe('ENROLL_BAD_PROOF');
    expect((await t.api('POST', '/v1/enroll', enrollRequest('store-2', deviceKeys()), null)).body.code).toBe('ENROLL_TOKEN_INVALID');
    expect((await t.api('POST', '/v1/enroll', enrollRequest('store-2', deviceKeys(), 'wenr_nope'), null)).body.code).toBe('ENROLL_TOKEN_INVALID');
    expect((await t.api('POST', '/v1/enroll', { ...enrollRequest('store-2', deviceKeys(), tok), extra: 1 }, null)).status).toBe(400);
  });

  it('an enrollment that fails inside its transaction leaves no ghost site and the token usable', async () => {
    // store-1 holds the only overlay address of the /30: store-2's enrollment fails after consuming its token.
    const tok = await token('store-2');
    const keys = deviceKeys();
    const r = await t.api('POST', '/v1/enroll', enrollRequest('store-2', keys, tok), null);
    expect(r).toMatchObject({ status: 503, body: { code: 'OVERLAY_EXHAUSTED' } });
    const s = (await t.hub.store.sites.get('store-2'))!;
    expect(s).toMatchObject({ state: 'pending', identityKey: null, overlayIndex: null });
    expect(await t.hub.store.sites.credentialHash('store-2')).toBeUndefined();
    expect(t.peers.peers.has('store-2')).toBe(false);
    // Free the address (revoke store-1): the same token now enrolls store-2.
    revokedSiteToken = await token('store-1');
    expect((await t.api('POST', '/v1/sites/store-1/revoke')).status).toBe(200);
    const ok = await t.api('POST', '/v1/enroll', enrollRequest('store-2', keys, tok), null);
    expect(ok.status).toBe(200);
    expect(ok.body.wireguard.addresses[0]).toBe('10.77.0.2/32');
  });

  it('refuses a revoked site, at enrollment (to a token holder) and at the broker', async () => {
    expect(await t.api('POST', '/v1/enroll', enrollRequest('store-1', deviceKeys(), revokedSiteToken), null)).toMatchObject({
      status: 403,
      body: { code: 'ENROLL_SITE_REVOKED' },
    });
    await expect(connectAsync(t.hub.broker.url(), { clientId: 'store-1', username: 'store-1', password: 'x', reconnectPeriod: 0 })).rejects.toThrow();
  });

  it('records every enrollment in the audit log', async () => {
    const audit = await t.api('GET', '/v1/audit?target=site/store-2');
    expect(audit.body.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['site.create', 'site.token', 'site.enroll']));
  });
});
