import { describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { BundleError, BundleSigner, encodeBundle, keyIdOf, signBundle, verifyBundle, type BundlePayload } from './bundle.ts';

const hub = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');
const trusted = new Map([[keyIdOf(hub.publicKey), hub.publicKey]]);
const payload: BundlePayload = {
  siteId: 'store-1',
  generation: 5,
  issuedAt: '2026-01-01T00:00:00Z',
  policyVersion: 3,
  policies: [{ kind: 'NetworkPolicy', metadata: { name: 'a' } }],
};
const opts = { trustedKeys: trusted, siteId: 'store-1', appliedGeneration: 4 };

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof BundleError) return e.code;
    throw e;
  }
  return 'ok';
}

describe('bundles', () => {
  it('round-trips a signed bundle', () => {
    const bytes = encodeBundle(signBundle(payload, hub.privateKey));
    expect(verifyBundle(bytes, opts)).toEqual(payload);
  });
  it('is deterministic: same payload, same bytes', () => {
    const reordered = { policies: payload.policies, policyVersion: 3, issuedAt: payload.issuedAt, generation: 5, siteId: 'store-1' };
    expect(encodeBundle(signBundle(reordered, hub.privateKey)).equals(encodeBundle(signBundle(payload, hub.privateKey)))).toBe(true);
  });
  it('BundleSigner gives the bytes of encodeBundle(signBundle()) for every site of a set', () => {
    // Strings that need escaping inside the envelope, a non-BMP character and keys out of order.
    const policies = [{ spec: { b: 'quote " back \\ tab \t é 😀 \u2028' }, kind: 'NetworkPolicy', metadata: { name: 'a/b' } }];
    const signer = new BundleSigner(policies, hub.privateKey);
    for (const siteId of ['store-1', 'store-"2"']) {
      const p = { ...payload, siteId, policies };
      expect(signer.encode(p)).toBe(encodeBundle(signBundle(p, hub.privateKey)).toString('utf8'));
      expect(verifyBundle(signer.encode(p), { ...opts, siteId })).toEqual(p);
    }
    // A site's bundle is refused by another site: the signature covers the site id, as before.
    expect(code(() => verifyBundle(signer.encode({ ...payload, siteId: 'store-2' }), opts))).toBe('BUNDLE_WRONG_SITE');
  });
  it.each([
    ['not JSON', () => 'garbage{', 'BUNDLE_MALFORMED'],
    ['unsigned', () => JSON.stringify({ ...signBundle(payload, hub.privateKey), signature: '' }), 'BUNDLE_UNSIGNED'],
    ['wrong key', () => encodeBundle(signBundle(payload, other.privateKey)), 'BUNDLE_UNKNOWN_KEY'],
    ['forged key id', () => JSON.stringify({ ...signBundle(payload, other.privateKey), keyId: keyIdOf(hub.publicKey) }), 'BUNDLE_BAD_SIGNATURE'],
    [
      'tampered payload',
      () => {
        const b = signBundle(payload, hub.privateKey);
        return JSON.stringify({ ...b, payload: b.payload.replace('"generation":5', '"generation":9') });
      },
      'BUNDLE_BAD_SIGNATURE',
    ],
    ['wrong site', () => encodeBundle(signBundle({ ...payload, siteId: 'store-2' }, hub.privateKey)), 'BUNDLE_WRONG_SITE'],
    ['replayed generation', () => encodeBundle(signBundle({ ...payload, generation: 4 }, hub.privateKey)), 'BUNDLE_STALE_GENERATION'],
    ['older generation', () => encodeBundle(signBundle({ ...payload, generation: 1 }, hub.privateKey)), 'BUNDLE_STALE_GENERATION'],
  ])('rejects %s', (_n, make, want) => {
    expect(code(() => verifyBundle(make(), opts))).toBe(want);
  });
});
