import { generateKeyPairSync, sign, verify, createPublicKey, diffieHellman } from 'node:crypto';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from './index.ts';
import { tempDirs } from './testing/tmp.ts';

const tmp = tempDirs('store-identity');
afterAll(() => tmp.cleanup());

const enrollment = {
  siteId: 'shop-7',
  broker: { url: 'mqtt://10.99.0.1:1883', username: 'site-shop-7', password: 'hunter2-broker-password' },
  signingKeys: [{ keyId: 'k1', publicKey: 'AAAA' }],
  wireguard: {
    hubPublicKey: 'hubpub',
    hubEndpoint: '203.0.113.1:51820',
    addresses: ['10.99.0.2/32'],
    hubAddresses: ['10.99.0.1/32'],
    persistentKeepaliveS: 25,
    mtu: 1420,
  },
  heartbeatIntervalS: 10,
  hubCaFingerprint: 'sha256:abcd',
};

describe('identity', () => {
  it('generates Ed25519 + X25519 keys once and loads the same keys after a restart', () => {
    const path = join(tmp.make(), 'agent.db');
    const a = openStore(path);
    expect(a.identity.get()).toBeNull();
    const id = a.identity.getOrCreate();
    expect(a.identity.getOrCreate().identityPublicKey).toBe(id.identityPublicKey);
    a.close();
    const b = openStore(path);
    const again = b.identity.get()!;
    b.close();
    expect(again.identityPublicKey).toBe(id.identityPublicKey);
    expect(again.wireguardPrivateKey()).toBe(id.wireguardPrivateKey());
    // The keys work: a signature verifies with the published SPKI, and the WireGuard key is a 32-byte X25519 key.
    const sig = sign(null, Buffer.from('proof'), again.ed25519PrivateKey);
    expect(verify(null, Buffer.from('proof'), createPublicKey({ key: Buffer.from(id.identityPublicKey, 'base64'), format: 'der', type: 'spki' }), sig)).toBe(
      true,
    );
    expect(Buffer.from(again.wireguardPublicKey, 'base64')).toHaveLength(32);
    const peer = generateKeyPairSync('x25519');
    expect(diffieHellman({ privateKey: again.x25519PrivateKey, publicKey: peer.publicKey })).toEqual(
      diffieHellman({ privateKey: peer.privateKey, publicKey: again.x25519PublicKey }),
    );
  });

  it('never prints private keys or the broker password (JSON, inspect, template strings)', () => {
    const s = openStore(join(tmp.make(), 'agent.db'));
    try {
      const id = s.identity.getOrCreate();
      const e = s.identity.saveEnrollment(enrollment);
      const secrets = [id.wireguardPrivateKey(), id.ed25519PrivateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'), enrollment.broker.password];
      const printed = [
        JSON.stringify(id),
        inspect(id, { depth: 10, showHidden: false }),
        JSON.stringify({ id, e }),
        inspect(e, { depth: 10 }),
        JSON.stringify(s.identity.enrollment()),
      ];
      for (const out of printed) for (const secret of secrets) expect(out).not.toContain(secret);
      expect(JSON.stringify(id)).toContain(id.wireguardPublicKey);
      expect(JSON.stringify(e)).toContain('[redacted]');
    } finally {
      s.close();
    }
  });

  it('stores the enrollment result and rotates the trusted signing keys', () => {
    const path = join(tmp.make(), 'agent.db');
    const s = openStore(path);
    expect(() => s.identity.updateSigningKeys([])).toThrow(expect.objectContaining({ code: 'STORE_NOT_ENROLLED' }));
    s.identity.saveEnrollment(enrollment);
    s.identity.updateSigningKeys([{ keyId: 'k2', publicKey: 'BBBB' }]);
    s.close();
    const r = openStore(path);
    const { toJSON: _t, ...got } = r.identity.enrollment()!;
    expect(got).toEqual({ ...enrollment, signingKeys: [{ keyId: 'k2', publicKey: 'BBBB' }], enrolledAt: expect.any(Number) });
    // A verified key set stores its version with its keys.
    r.identity.updateSigningKeys([{ keyId: 'k3', publicKey: 'CCCC' }], 7);
    expect(r.identity.enrollment()).toMatchObject({ signingKeys: [{ keyId: 'k3', publicKey: 'CCCC' }], signingKeysVersion: 7 });
    r.identity.clearEnrollment();
    expect(r.identity.enrollment()).toBeNull();
    r.close();
  });

  it('rejects keys of the wrong type', () => {
    const s = openStore(join(tmp.make(), 'agent.db'));
    try {
      const rsa = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
      expect(() => s.identity.set({ ed25519PrivateKey: rsa, x25519PrivateKey: rsa })).toThrow(expect.objectContaining({ code: 'STORE_BAD_INPUT' }));
    } finally {
      s.close();
    }
  });
});
