import { createHash, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyIdOf, signKeySet, verifyKeySet, type KeySetPayload } from '../base/pure.ts';
import {
  checkArtifact,
  checkHubVersion,
  compareVersions,
  RELEASE_KEY_SET_CONTEXT,
  type ReleaseError,
  type ReleaseManifest,
  signRelease,
  verifyRelease,
} from './release.ts';

const key = () => generateKeyPairSync('ed25519').privateKey;
const [release, other, policyKey] = [key(), key(), key()];
const trust = (...ks: KeyObject[]) => new Map(ks.map((k) => [keyIdOf(createPublicKey(k)), createPublicKey(k)]));
const artifact = Buffer.from('the single-binary agent, version 2\n');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const manifest = (over: Partial<ReleaseManifest> = {}): ReleaseManifest => ({
  kind: 'agent',
  version: '0.2.0',
  file: 'weft-agent-0.2.0',
  sha256: sha(artifact),
  size: artifact.length,
  minHubVersion: '0.1.0',
  issuedAt: '2026-12-07T12:00:00Z',
  ...over,
});
const code = (f: () => unknown) => {
  try {
    f();
    return 'ok';
  } catch (e) {
    return (e as ReleaseError).code;
  }
};
const opts = { trustedKeys: trust(release), kind: 'agent' as const, installed: '0.1.0' };

describe('signed release manifests', () => {
  it.each([
    ['signed by the release key, newer: accepted', () => verifyRelease(signRelease(manifest(), release), opts), 'ok'],
    ['signed by an unknown key', () => verifyRelease(signRelease(manifest(), other), opts), 'RELEASE_UNKNOWN_KEY'],
    ['signed by the policy key, which is not a release key', () => verifyRelease(signRelease(manifest(), policyKey), opts), 'RELEASE_UNKNOWN_KEY'],
    [
      'one byte of the manifest changed after signing',
      () => {
        const s = signRelease(manifest(), release);
        return verifyRelease({ ...s, payload: s.payload.replace('"size":', '"size":1') }, opts);
      },
      'RELEASE_BAD_SIGNATURE',
    ],
    ['a lower version (downgrade, replay)', () => verifyRelease(signRelease(manifest({ version: '0.0.9' }), release), opts), 'RELEASE_NOT_NEWER'],
    ['the same version again', () => verifyRelease(signRelease(manifest({ version: '0.1.0' }), release), opts), 'RELEASE_NOT_NEWER'],
    ['a rootfs where an agent is expected', () => verifyRelease(signRelease(manifest({ kind: 'rootfs' }), release), opts), 'RELEASE_WRONG_KIND'],
    ['a version that is not MAJOR.MINOR.PATCH', () => verifyRelease(signRelease(manifest({ version: 'v2' }), release), opts), 'RELEASE_MALFORMED'],
    ['a file name with a path', () => verifyRelease(signRelease(manifest({ file: '../etc/passwd' }), release), opts), 'RELEASE_MALFORMED'],
    ['not a release', () => verifyRelease({ format: 1, payload: 'x' }, opts), 'RELEASE_MALFORMED'],
    [
      'a key-set signature is not a release signature',
      () => {
        const set = signKeySet({ version: 1, issuedAt: 'x', keys: [] }, release, RELEASE_KEY_SET_CONTEXT);
        return verifyRelease({ ...set, payload: signRelease(manifest(), release).payload }, opts);
      },
      'RELEASE_BAD_SIGNATURE',
    ],
  ])('%s', (_name, f, want) => expect(code(f)).toBe(want));

  it.each([
    ['the bytes of the manifest', artifact, 'ok'],
    ['one byte changed', Buffer.from(artifact.toString().replace('2', '3')), 'RELEASE_HASH_MISMATCH'],
    ['cut short', artifact.subarray(1), 'RELEASE_SIZE_MISMATCH'],
  ])('artifact: %s', (_name, bytes, want) => {
    expect(code(() => checkArtifact(manifest(), { sha256: sha(bytes), size: bytes.length }))).toBe(want);
  });

  it.each([
    ['0.1.0', '0.1.0', 'ok'],
    ['0.2.3', '0.1.0', 'ok'],
    ['0.0.9', '0.1.0', 'RELEASE_HUB_TOO_OLD'],
  ])('hub %s, release needs %s', (hub, min, want) => {
    expect(code(() => checkHubVersion(manifest({ minHubVersion: min }), hub))).toBe(want);
  });

  it('orders versions numerically', () => {
    expect(['0.10.0', '0.9.1', '1.0.0', '0.9.0'].sort(compareVersions)).toEqual(['0.9.0', '0.9.1', '0.10.0', '1.0.0']);
  });
});

describe('release-key sets (trusted like bundle-key sets: signed, versions only go up)', () => {
  const pub = (k: KeyObject) => createPublicKey(k);
  const listed = (k: KeyObject) => ({ keyId: keyIdOf(pub(k)), publicKey: pub(k).export({ format: 'der', type: 'spki' }).toString('base64') });
  const set = (version: number, ...ks: KeyObject[]): KeySetPayload => ({ version, issuedAt: '2026-12-07T00:00:00Z', keys: ks.map(listed) });
  const verify = (s: unknown, version: number) => verifyKeySet(s, { trustedKeys: trust(release), version, context: RELEASE_KEY_SET_CONTEXT });
  const keysCode = (f: () => unknown) => {
    try {
      f();
      return 'ok';
    } catch (e) {
      return (e as ReleaseError).code;
    }
  };
  it.each([
    ['newer set signed by a trusted release key', () => verify(signKeySet(set(2, release, other), release, RELEASE_KEY_SET_CONTEXT), 1), 'ok'],
    ['a lower version', () => verify(signKeySet(set(1, release, other), release, RELEASE_KEY_SET_CONTEXT), 2), 'KEYS_STALE_VERSION'],
    ['signed by an unknown key', () => verify(signKeySet(set(3, other), other, RELEASE_KEY_SET_CONTEXT), 1), 'KEYS_UNKNOWN_SIGNER'],
    ['a bundle-key set replayed as a release-key set', () => verify(signKeySet(set(3, release, other), release), 1), 'KEYS_BAD_SIGNATURE'],
  ])('%s', (_name, f, want) => expect(keysCode(f)).toBe(want));
});
