import { describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { canonicalJson } from '../base/pure.ts';
import { BundleError, encodeBundle, keyIdOf, signBundle, signBundleTree, verifyBundle, type BundlePayload } from './bundle.ts';

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
  describe('one signature for many sites (format 2)', () => {
    const shared = { issuedAt: payload.issuedAt, policyVersion: 3, policies: payload.policies };
    const sites = Array.from({ length: 7 }, (_, i) => ({ siteId: `store-${i}`, generation: 5 + i }));
    const bytes = signBundleTree(shared, sites, hub.privateKey);
    const as = (i: number) => ({ ...opts, siteId: `store-${i}`, appliedGeneration: 0 });
    const env = (i: number) => JSON.parse(bytes[i]) as Record<string, unknown> & { proof: string[]; site: { siteId: string; generation: number } };

    it('verifies for each site at its generation, every tree size', () => {
      sites.forEach((s, i) => expect(verifyBundle(bytes[i], as(i))).toEqual({ ...shared, ...s }));
      for (const n of [1, 2, 3, 4, 5, 16, 17]) {
        const some = sites.concat(Array.from({ length: 20 }, (_, i) => ({ siteId: `x-${i}`, generation: 1 }))).slice(0, n);
        const b = signBundleTree(shared, some, hub.privateKey);
        some.forEach((s, i) => expect(verifyBundle(b[i], { ...opts, siteId: s.siteId, appliedGeneration: 0 }).generation).toBe(s.generation));
      }
    });
    it('shares one signature, and the bytes are canonical JSON', () => {
      expect(new Set(sites.map((_, i) => env(i).signature)).size).toBe(1);
      expect(bytes[3]).toBe(canonicalJson(env(3)));
    });
    it.each([
      ["another site's bundle", () => bytes[1], 'BUNDLE_WRONG_SITE'],
      ["another site's bundle claiming this site", () => JSON.stringify({ ...env(1), site: { siteId: 'store-0', generation: 6 } }), 'BUNDLE_BAD_SIGNATURE'],
      ['a raised generation', () => JSON.stringify({ ...env(0), site: { siteId: 'store-0', generation: 99 } }), 'BUNDLE_BAD_SIGNATURE'],
      ['a proof from another site', () => JSON.stringify({ ...env(0), proof: env(1).proof }), 'BUNDLE_BAD_SIGNATURE'],
      ['a cut proof', () => JSON.stringify({ ...env(0), proof: env(0).proof.slice(1) }), 'BUNDLE_BAD_SIGNATURE'],
      ['a garbled proof step', () => JSON.stringify({ ...env(0), proof: ['x', ...env(0).proof.slice(1)] }), 'BUNDLE_BAD_SIGNATURE'],
      ['changed policies', () => JSON.stringify({ ...env(0), payload: (env(0).payload as string).replace('"a"', '"b"') }), 'BUNDLE_BAD_SIGNATURE'],
      ['no site', () => JSON.stringify({ ...env(0), site: undefined }), 'BUNDLE_MALFORMED'],
      ['signed by an untrusted key', () => signBundleTree(shared, sites, other.privateKey)[0], 'BUNDLE_UNKNOWN_KEY'],
      [
        'a tree payload in a format-1 envelope',
        () => JSON.stringify({ format: 1, keyId: env(0).keyId, payload: env(0).payload, signature: env(0).signature }),
        'BUNDLE_MALFORMED',
      ],
    ])('refuses %s', (_n, make, want) => {
      expect(code(() => verifyBundle(make(), as(0)))).toBe(want);
    });
    it('refuses a stale generation like format 1', () => {
      expect(code(() => verifyBundle(bytes[0], { ...as(0), appliedGeneration: 5 }))).toBe('BUNDLE_STALE_GENERATION');
    });
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
