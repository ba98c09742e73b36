// Release artifacts on disk: the release-signing key (a 0600 PEM file kept apart from the hub's
// policy-signing keys), each artifact beside its signed manifest (`<file>.release.json`), and the
// signed release-key set (`release-keys.json`) that tells agents which release keys to trust.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { keyIdOf, type KeySetPayload, type SignedKeySet, signKeySet } from '../base/index.ts';
import { type ArtifactKind, RELEASE_KEY_SET_CONTEXT, type ReleaseManifest, type SignedRelease, signRelease } from '../protocol/index.ts';
import { ImageError } from './errors.ts';

/** Reads the release key, or makes one (0600) when `create` and the file is absent. */
export function releaseKey(path: string, create = false): KeyObject {
  if (!existsSync(path)) {
    if (!create) throw new ImageError('IMAGE_BAD_OPTION', `release key ${path} not found`, 'pass --new-key to make one (keep it offline, apart from the hub)');
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(path, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: 'wx' });
  }
  try {
    const k = createPrivateKey(readFileSync(path));
    if (k.asymmetricKeyType !== 'ed25519') throw new Error(`a ${k.asymmetricKeyType} key`);
    return k;
  } catch (e) {
    throw new ImageError('IMAGE_BAD_OPTION', `${path} is not an Ed25519 private key (PEM)`, 'make one with --new-key', { cause: e });
  }
}

/** sha256 and size of a file, streamed (a root image is hundreds of MB). */
export async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    h.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: h.digest('hex'), size };
}

export interface ReleaseInput {
  kind: ArtifactKind;
  /** The artifact, already in the release folder under its final name. */
  file: string;
  version: string;
  minHubVersion: string;
  key: KeyObject;
  issuedAt: string;
}

/** Signs one artifact and writes `<file>.release.json` beside it. */
export async function signArtifact(i: ReleaseInput): Promise<{ manifest: ReleaseManifest; signed: SignedRelease; path: string }> {
  const { sha256, size } = await hashFile(i.file);
  const manifest: ReleaseManifest = {
    kind: i.kind,
    version: i.version,
    file: basename(i.file),
    sha256,
    size,
    minHubVersion: i.minHubVersion,
    issuedAt: i.issuedAt,
  };
  const signed = signRelease(manifest, i.key);
  const path = `${i.file}.release.json`;
  writeFileSync(path, `${JSON.stringify(signed, null, 2)}\n`);
  return { manifest, signed, path };
}

/** The listed form of a public key in a key set. */
export function listedKey(k: KeyObject): KeySetPayload['keys'][number] {
  const pub = createPublicKey(k);
  return { keyId: keyIdOf(pub), publicKey: pub.export({ format: 'der', type: 'spki' }).toString('base64') };
}

/** A release-key set of `version` listing `keys`, signed by `signer`, written to `<dir>/release-keys.json`. */
export function writeReleaseKeySet(dir: string, version: number, keys: KeyObject[], signer: KeyObject, issuedAt: string): SignedKeySet {
  const set = signKeySet({ version, issuedAt, keys: keys.map(listedKey) }, signer, RELEASE_KEY_SET_CONTEXT);
  writeFileSync(join(dir, 'release-keys.json'), `${JSON.stringify(set, null, 2)}\n`);
  return set;
}
