import { afterAll, describe, expect, it } from 'vitest';
import { createPublicKey, verify, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyBundle, signBundle } from '../../policy/index.ts';
import { openHubStore } from '../store/sqlite-store.ts';
import { fingerprintOf, loadTls } from './ca.ts';
import { SigningKeys } from './signing-keys.ts';

const dir = mkdtempSync(join(tmpdir(), 'weft-pki-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('hub CA', () => {
  it('creates the CA once (0600 key), keeps its fingerprint across starts, and issues a server cert it signed with the requested names', () => {
    const a = loadTls(join(dir, 'ca'), ['hub.example.com', '10.99.0.1']);
    const b = loadTls(join(dir, 'ca'), ['hub.example.com']);
    expect(b.caFingerprint).toBe(a.caFingerprint);
    expect(a.caFingerprint).toBe(fingerprintOf(a.caCertPem));
    expect(a.caFingerprint).toBe(new X509Certificate(a.caCertPem).fingerprint256.replace(/:/g, '').toLowerCase());
    expect(statSync(join(dir, 'ca', 'ca.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'ca', 'server.key')).mode & 0o777).toBe(0o600);
    const ca = new X509Certificate(a.caCertPem);
    const server = new X509Certificate(a.certPem);
    expect(ca.ca).toBe(true);
    expect(server.ca).toBe(false);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.subjectAltName).toContain('DNS:hub.example.com');
    expect(server.subjectAltName).toContain('IP Address:10.99.0.1');
    expect(server.checkHost('localhost')).toBe('localhost');
  });
});

describe('bundle signing keys', () => {
  it('announces a rotated key before it signs, then keeps the old one trusted for the overlap only', async () => {
    const store = openHubStore(join(dir, 'keys.db'));
    try {
      const keys = new SigningKeys(store.keys, join(dir, 'signing'), { activationDelayMs: 60_000, overlapMs: 3600_000 });
      await keys.ensure(1000);
      await keys.ensure(2000);
      const first = keys.active(2000).keyId;
      // The active key and a standby, which signs nothing until a revocation.
      const [standby] = keys.trusted(2000).filter((k) => k.activatedAt === null);
      const ids = (t: number) =>
        keys
          .trusted(t)
          .map((k) => k.keyId)
          .sort();
      expect(ids(2000)).toEqual([first, standby.keyId].sort());
      expect(statSync(join(dir, 'signing', `${first}.key`)).mode & 0o777).toBe(0o600);

      const next = await keys.rotate(10_000);
      // Announced at once, signing only after the delay.
      expect(ids(10_000)).toEqual([first, standby.keyId, next.keyId].sort());
      expect(keys.active(69_999).keyId).toBe(first);
      expect(keys.active(70_000).keyId).toBe(next.keyId);
      // The old key is trusted through the overlap, then dropped.
      expect(keys.trusted(70_000 + 3600_000 - 1).map((k) => k.keyId)).toContain(first);
      expect(ids(70_000 + 3600_000)).toEqual([standby.keyId, next.keyId].sort());

      // A bundle signed by the active key verifies with the published public key (what agents get).
      const { privateKey } = keys.active(80_000);
      const pub = createPublicKey({ key: Buffer.from(next.publicKey, 'base64'), format: 'der', type: 'spki' });
      const signed = signBundle({ siteId: 's', generation: 1, issuedAt: 'x', policyVersion: 1, policies: [] }, privateKey);
      expect(verifyBundle(JSON.stringify(signed), { trustedKeys: new Map([[next.keyId, pub]]), siteId: 's', appliedGeneration: 0 }).generation).toBe(1);
      expect(verify(null, Buffer.from(signed.payload), pub, Buffer.from(signed.signature, 'base64'))).toBe(true);

      // A restarted hub (new SigningKeys, key read from its file) signs with the same key.
      const again = new SigningKeys(store.keys, join(dir, 'signing'), { activationDelayMs: 60_000, overlapMs: 3600_000 });
      await again.load();
      expect(again.active(80_000).keyId).toBe(next.keyId);

      // Revoking the active key: the standby signs at once, a new standby is made, the version goes up.
      // (After the overlap: the first key is gone already.)
      const at = 70_000 + 3600_000;
      const v = keys.version(at);
      const r = await keys.revoke(next.keyId, at);
      expect(r).toEqual({ revoked: next.keyId, active: standby.keyId });
      expect(ids(at)).not.toContain(next.keyId);
      expect(ids(at)).toHaveLength(2);
      expect(keys.version(at)).toBeGreaterThan(v);
      await expect(keys.revoke(next.keyId, at)).rejects.toThrow(/no trusted signing key/);
    } finally {
      await store.close();
    }
  });
});
