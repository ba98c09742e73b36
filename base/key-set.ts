// Signed sets of keys: what an agent trusts to verify what it is sent (hub bundle-signing keys,
// release-signing keys), and how that trust changes. A set is accepted only when a key the agent already trusts signed it and its version is
// higher than the one the agent holds; it then replaces the trusted keys whole. So one unsigned (or
// replayed) message can no longer swap the trust root, and a compromised key is dropped by one push:
// a set without it, signed by a key that stays, with the next version.
// Each kind of set has its own context string, signed with it, so a set of one kind never verifies
// as another (a bundle-key set replayed as a release-key set, or the reverse).
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical.ts';
import { WeftError } from './errors.ts';

export const KEY_SET_FORMAT = 1;

export interface TrustedKey {
  keyId: string;
  /** base64 SPKI DER Ed25519 public key. */
  publicKey: string;
}

export interface KeySetPayload {
  /** Strictly increasing over the hub's life; an agent refuses a set whose version is not above its own. */
  version: number;
  /** ISO-8601, given by the caller. */
  issuedAt: string;
  keys: TrustedKey[];
}

export interface SignedKeySet {
  format: typeof KEY_SET_FORMAT;
  /** Which trusted key signed it. */
  keyId: string;
  /** Canonical JSON of the KeySetPayload: the exact bytes that were signed (after the context line). */
  payload: string;
  /** base64 Ed25519 signature of CONTEXT + payload. */
  signature: string;
}

export type KeySetErrorCode = 'KEYS_MALFORMED' | 'KEYS_UNKNOWN_SIGNER' | 'KEYS_BAD_SIGNATURE' | 'KEYS_STALE_VERSION';

export class KeySetError extends WeftError<KeySetErrorCode> {
  override readonly name = 'KeySetError';
}

/** Short stable id of an Ed25519 public key: hex of sha256(raw 32-byte key), first 16 chars. */
export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ format: 'der', type: 'spki' });
  return createHash('sha256')
    .update(der.subarray(der.length - 32))
    .digest('hex')
    .slice(0, 16);
}

/**
 * Domain separation: a key set's signature never verifies as a bundle's, nor the reverse. The hub's
 * bundle-key sets; other kinds pass their own (protocol/release.ts RELEASE_KEY_SET_CONTEXT).
 */
export const BUNDLE_KEY_SET_CONTEXT = 'weft-key-set-v1\n';

export function signKeySet(payload: KeySetPayload, privateKey: KeyObject, context: string = BUNDLE_KEY_SET_CONTEXT): SignedKeySet {
  const body = canonicalJson(payload);
  return {
    format: KEY_SET_FORMAT,
    keyId: keyIdOf(createPublicKey(privateKey)),
    payload: body,
    signature: sign(null, Buffer.from(context + body, 'utf8'), privateKey).toString('base64'),
  };
}

export interface KeySetVerifyOptions {
  /** The keys the agent trusts now, by key id. */
  trustedKeys: ReadonlyMap<string, KeyObject>;
  /** The version of the set the agent holds (0: only the keys from its enrollment). */
  version: number;
  /** Which kind of set this must be (default: the hub's bundle-signing keys). */
  context?: string;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The Ed25519 key behind a listed key, checked against its id; null when it is not one. */
export function publicKeyOf(k: TrustedKey): KeyObject | null {
  try {
    const key = createPublicKey({ key: Buffer.from(k.publicKey, 'base64'), format: 'der', type: 'spki' });
    return key.asymmetricKeyType === 'ed25519' && keyIdOf(key) === k.keyId ? key : null;
  } catch {
    return null;
  }
}

/** Checks the signer, signature, version and every listed key; returns the payload or throws a KeySetError. */
export function verifyKeySet(set: unknown, opts: KeySetVerifyOptions): KeySetPayload {
  if (!isObj(set) || set.format !== KEY_SET_FORMAT || typeof set.payload !== 'string' || typeof set.keyId !== 'string' || typeof set.signature !== 'string') {
    throw new KeySetError('KEYS_MALFORMED', `a key set needs format ${KEY_SET_FORMAT}, keyId, payload and signature`);
  }
  const signer = opts.trustedKeys.get(set.keyId);
  if (!signer) throw new KeySetError('KEYS_UNKNOWN_SIGNER', `key set signed by ${set.keyId}, which this site does not trust`);
  if (!verify(null, Buffer.from((opts.context ?? BUNDLE_KEY_SET_CONTEXT) + set.payload, 'utf8'), signer, Buffer.from(set.signature, 'base64'))) {
    throw new KeySetError('KEYS_BAD_SIGNATURE', 'key set signature does not verify: tampered or forged');
  }
  let p: unknown;
  try {
    p = JSON.parse(set.payload);
  } catch {
    throw new KeySetError('KEYS_MALFORMED', 'key set payload is not JSON');
  }
  if (!isObj(p) || !Number.isSafeInteger(p.version) || typeof p.issuedAt !== 'string' || !Array.isArray(p.keys) || p.keys.length === 0 || p.keys.length > 64) {
    throw new KeySetError('KEYS_MALFORMED', 'key set payload needs a version, issuedAt and 1 to 64 keys');
  }
  for (const k of p.keys as unknown[]) {
    if (!isObj(k) || typeof k.keyId !== 'string' || typeof k.publicKey !== 'string' || !publicKeyOf(k as unknown as TrustedKey)) {
      throw new KeySetError('KEYS_MALFORMED', 'every key in a set must be an Ed25519 public key listed under its own key id');
    }
  }
  const payload = p as unknown as KeySetPayload;
  if (payload.version <= opts.version) {
    throw new KeySetError('KEYS_STALE_VERSION', `key set version ${payload.version} <= held version ${opts.version}: a replay or an old hub`);
  }
  return { version: payload.version, issuedAt: payload.issuedAt, keys: payload.keys.map((k) => ({ keyId: k.keyId, publicKey: k.publicKey })) };
}
