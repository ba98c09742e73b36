import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyIdOf, KeySetError, signKeySet, verifyKeySet, type KeySetPayload } from './key-set.ts';

const key = () => generateKeyPairSync('ed25519').privateKey;
const listed = (k: KeyObject) => {
  const pub = createPublicKey(k);
  return { keyId: keyIdOf(pub), publicKey: pub.export({ format: 'der', type: 'spki' }).toString('base64') };
};
const trust = (...ks: KeyObject[]) => new Map(ks.map((k) => [listed(k).keyId, createPublicKey(k)]));
const payload = (version: number, ...ks: KeyObject[]): KeySetPayload => ({ version, issuedAt: '2026-12-01T00:00:00Z', keys: ks.map(listed) });
const code = (f: () => unknown) => {
  try {
    f();
    return 'ok';
  } catch (e) {
    return (e as KeySetError).code;
  }
};

const [a, b, c] = [key(), key(), key()];

describe('signed key sets', () => {
  it.each([
    ['signed by a trusted key, newer: accepted', () => verifyKeySet(signKeySet(payload(2, a, b), a), { trustedKeys: trust(a), version: 1 }), 'ok'],
    ['signed by an untrusted key', () => verifyKeySet(signKeySet(payload(2, c), c), { trustedKeys: trust(a), version: 1 }), 'KEYS_UNKNOWN_SIGNER'],
    ['same version again', () => verifyKeySet(signKeySet(payload(1, a), a), { trustedKeys: trust(a), version: 1 }), 'KEYS_STALE_VERSION'],
    ['older version (replay)', () => verifyKeySet(signKeySet(payload(1, a, c), a), { trustedKeys: trust(a), version: 3 }), 'KEYS_STALE_VERSION'],
    [
      'payload changed after signing',
      () => {
        const s = signKeySet(payload(2, a), a);
        return verifyKeySet({ ...s, payload: s.payload.replace('"version":2', '"version":9') }, { trustedKeys: trust(a), version: 1 });
      },
      'KEYS_BAD_SIGNATURE',
    ],
    [
      'a set of another kind (context) does not verify as this kind',
      () => verifyKeySet(signKeySet(payload(2, a), a, 'weft-release-key-set-v1\n'), { trustedKeys: trust(a), version: 1 }),
      'KEYS_BAD_SIGNATURE',
    ],
    [
      'a release-key set verifies as one',
      () =>
        verifyKeySet(signKeySet(payload(2, a), a, 'weft-release-key-set-v1\n'), { trustedKeys: trust(a), version: 1, context: 'weft-release-key-set-v1\n' }),
      'ok',
    ],
    ['empty set', () => verifyKeySet(signKeySet(payload(2), a), { trustedKeys: trust(a), version: 1 }), 'KEYS_MALFORMED'],
    [
      'a key listed under another id',
      () => verifyKeySet(signKeySet({ ...payload(2), keys: [{ ...listed(a), keyId: listed(b).keyId }] }, a), { trustedKeys: trust(a), version: 1 }),
      'KEYS_MALFORMED',
    ],
    ['not a set', () => verifyKeySet({ v: 1, keys: [] }, { trustedKeys: trust(a), version: 0 }), 'KEYS_MALFORMED'],
  ])('%s', (_name, f, want) => expect(code(f)).toBe(want));

  it('returns the keys of an accepted set', () => {
    expect(verifyKeySet(signKeySet(payload(7, b, c), a), { trustedKeys: trust(a), version: 6 })).toEqual(payload(7, b, c));
  });
});
