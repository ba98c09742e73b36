// Signed release manifests: what an agent or an appliance checks before it writes a single byte of an
// update. A manifest names one artifact of one version (the single-binary agent, or the appliance root
// filesystem) by sha256 and size, and the oldest hub that can drive it. It is signed with a release
// key, kept apart from the hub's policy-signing keys: a stolen hub key cannot ship code, and a release
// key cannot sign policy (its own context string). Release keys are trusted the way bundle keys are:
// signed key sets whose version only goes up (base/key-set.ts with RELEASE_KEY_SET_CONTEXT).
// Pure: hashing the bytes is the caller's (it streams them); this compares.
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson, keyIdOf, WeftError } from '../base/pure.ts';

export const RELEASE_FORMAT = 1;
/** Domain separation: a release signature never verifies as a bundle's or a key set's. */
const RELEASE_CONTEXT = 'weft-release-v1\n';
/** The context of signed release-key sets (base/key-set.ts signKeySet / verifyKeySet). */
export const RELEASE_KEY_SET_CONTEXT = 'weft-release-key-set-v1\n';

export type ArtifactKind = 'agent' | 'rootfs';
export const ARTIFACT_KINDS: readonly ArtifactKind[] = ['agent', 'rootfs'];

export interface ReleaseManifest {
  kind: ArtifactKind;
  /** Semantic version, MAJOR.MINOR.PATCH. */
  version: string;
  /** File name of the artifact beside the manifest. */
  file: string;
  /** Lowercase hex sha256 of the artifact's bytes. */
  sha256: string;
  size: number;
  /** The oldest hub version that can roll this release out. */
  minHubVersion: string;
  /** ISO-8601, given by the caller. */
  issuedAt: string;
}

export interface SignedRelease {
  format: typeof RELEASE_FORMAT;
  keyId: string;
  /** Canonical JSON of the ReleaseManifest: the exact bytes signed (after the context line). */
  payload: string;
  /** base64 Ed25519 signature of RELEASE_CONTEXT + payload. */
  signature: string;
}

export type ReleaseErrorCode =
  | 'RELEASE_MALFORMED'
  | 'RELEASE_UNKNOWN_KEY'
  | 'RELEASE_BAD_SIGNATURE'
  | 'RELEASE_NOT_NEWER'
  | 'RELEASE_WRONG_KIND'
  | 'RELEASE_SIZE_MISMATCH'
  | 'RELEASE_HASH_MISMATCH'
  | 'RELEASE_HUB_TOO_OLD';

export class ReleaseError extends WeftError<ReleaseErrorCode> {
  override readonly name = 'ReleaseError';
}

const VERSION_RE = /^(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})$/;

/** [major, minor, patch], or null when `v` is not MAJOR.MINOR.PATCH. */
export function parseVersion(v: string): [number, number, number] | null {
  const m = VERSION_RE.exec(v);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

/** <0, 0, >0 as a is older, the same, newer than b. Both must be valid versions. */
export function compareVersions(a: string, b: string): number {
  const [x, y] = [parseVersion(a), parseVersion(b)];
  if (!x || !y) throw new ReleaseError('RELEASE_MALFORMED', `not a MAJOR.MINOR.PATCH version: ${x ? b : a}`);
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return 0;
}

export function signRelease(m: ReleaseManifest, privateKey: KeyObject): SignedRelease {
  const payload = canonicalJson(m);
  return {
    format: RELEASE_FORMAT,
    keyId: keyIdOf(createPublicKey(privateKey)),
    payload,
    signature: sign(null, Buffer.from(RELEASE_CONTEXT + payload, 'utf8'), privateKey).toString('base64'),
  };
}

export interface ReleaseVerifyOptions {
  /** Release keys this side trusts, by key id (from its signed release-key set). */
  trustedKeys: ReadonlyMap<string, KeyObject>;
  /** Which artifact the caller is about to install. */
  kind: ArtifactKind;
  /** The version running now: only a newer one is installed (a replayed old release is a downgrade). */
  installed?: string;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkManifest(p: unknown): ReleaseManifest {
  if (
    !isObj(p) ||
    !ARTIFACT_KINDS.includes(p.kind as ArtifactKind) ||
    typeof p.version !== 'string' ||
    !parseVersion(p.version) ||
    typeof p.minHubVersion !== 'string' ||
    !parseVersion(p.minHubVersion) ||
    typeof p.file !== 'string' ||
    !/^[A-Za-z0-9._-]{1,128}$/.test(p.file) ||
    typeof p.sha256 !== 'string' ||
    !/^[0-9a-f]{64}$/.test(p.sha256) ||
    !Number.isSafeInteger(p.size) ||
    (p.size as number) < 1 ||
    typeof p.issuedAt !== 'string'
  ) {
    throw new ReleaseError(
      'RELEASE_MALFORMED',
      'release manifest needs kind (agent|rootfs), version and minHubVersion (MAJOR.MINOR.PATCH), file, sha256 (hex), size > 0 and issuedAt',
    );
  }
  return {
    kind: p.kind,
    version: p.version,
    file: p.file,
    sha256: p.sha256,
    size: p.size,
    minHubVersion: p.minHubVersion,
    issuedAt: p.issuedAt,
  } as ReleaseManifest;
}

/** The manifest of a signed release, read but not verified (the hub lists what it was given). */
export function readRelease(signed: unknown): ReleaseManifest {
  if (!isObj(signed) || signed.format !== RELEASE_FORMAT || typeof signed.payload !== 'string') {
    throw new ReleaseError('RELEASE_MALFORMED', `a signed release needs format ${RELEASE_FORMAT} and a payload string`);
  }
  let p: unknown;
  try {
    p = JSON.parse(signed.payload);
  } catch {
    throw new ReleaseError('RELEASE_MALFORMED', 'release payload is not JSON');
  }
  return checkManifest(p);
}

/** Checks signer, signature, kind and that the version is newer; returns the manifest or throws a ReleaseError. */
export function verifyRelease(signed: unknown, opts: ReleaseVerifyOptions): ReleaseManifest {
  const m = readRelease(signed);
  const env = signed as Record<string, unknown>;
  if (typeof env.keyId !== 'string' || typeof env.signature !== 'string')
    throw new ReleaseError('RELEASE_MALFORMED', 'signed release has no keyId or signature');
  const key = opts.trustedKeys.get(env.keyId);
  if (!key) {
    throw new ReleaseError(
      'RELEASE_UNKNOWN_KEY',
      `release signed by key ${env.keyId}, which is not a trusted release key`,
      'sign releases with a key in the release-key set',
    );
  }
  if (!verify(null, Buffer.from(RELEASE_CONTEXT + (env.payload as string), 'utf8'), key, Buffer.from(env.signature, 'base64'))) {
    throw new ReleaseError('RELEASE_BAD_SIGNATURE', 'release signature does not verify: tampered or forged');
  }
  if (m.kind !== opts.kind) throw new ReleaseError('RELEASE_WRONG_KIND', `release is a ${m.kind} artifact, expected ${opts.kind}`);
  if (opts.installed !== undefined && compareVersions(m.version, opts.installed) <= 0) {
    throw new ReleaseError(
      'RELEASE_NOT_NEWER',
      `release ${m.version} is not newer than the installed ${opts.installed}`,
      'a rollback goes to the previous slot or binary, not through a release',
    );
  }
  return m;
}

/** Checks the artifact's bytes (hashed by the caller) against its verified manifest. */
export function checkArtifact(m: ReleaseManifest, got: { sha256: string; size: number }): void {
  if (got.size !== m.size) throw new ReleaseError('RELEASE_SIZE_MISMATCH', `${m.file}: ${got.size} bytes, manifest says ${m.size}`);
  if (got.sha256 !== m.sha256)
    throw new ReleaseError(
      'RELEASE_HASH_MISMATCH',
      `${m.file}: sha256 ${got.sha256} is not the manifest's ${m.sha256}`,
      'the artifact was changed or damaged: download it again',
    );
}

/** Refuses a release this hub is too old to roll out. */
export function checkHubVersion(m: ReleaseManifest, hubVersion: string): void {
  if (compareVersions(hubVersion, m.minHubVersion) < 0) {
    throw new ReleaseError(
      'RELEASE_HUB_TOO_OLD',
      `release ${m.version} needs hub ${m.minHubVersion} or newer; this hub is ${hubVersion}`,
      'upgrade the hub first',
    );
  }
}
