// Signed policy bundles: the unit the hub publishes to a site and the agent verifies before it
// stores or applies anything. Ed25519 over the canonical JSON of the payload.
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson, keyIdOf, WeftError } from '../base/pure.ts';

const BUNDLE_FORMAT = 1;

export interface BundlePayload {
  siteId: string;
  /** Monotonic per site; an agent never applies a generation <= the one it applied. */
  generation: number;
  /** ISO-8601, given by the caller (the core reads no clock). */
  issuedAt: string;
  /** The hub's policy version this bundle was built from. */
  policyVersion: number;
  /** The Kubernetes policy objects (NetworkPolicy, ClusterNetworkPolicy; v1alpha1 ANP/BANP read as ClusterNetworkPolicy) as parsed JSON. */
  policies: unknown[];
}

export interface SignedBundle {
  format: typeof BUNDLE_FORMAT;
  keyId: string;
  /** Canonical JSON of the BundlePayload: the exact bytes that were signed. */
  payload: string;
  /** base64 Ed25519 signature of `payload`. */
  signature: string;
}

export type BundleErrorCode =
  | 'BUNDLE_MALFORMED'
  | 'BUNDLE_UNSIGNED'
  | 'BUNDLE_UNKNOWN_KEY'
  | 'BUNDLE_BAD_SIGNATURE'
  | 'BUNDLE_WRONG_SITE'
  | 'BUNDLE_STALE_GENERATION';

export class BundleError extends WeftError<BundleErrorCode> {
  override readonly name = 'BundleError';
}

export { keyIdOf };

/** Key id per signing key: deriving it costs as much as the signature, and a hub signs thousands per push. */
const signerIds = new WeakMap<KeyObject, string>();

export function signBundle(payload: BundlePayload, privateKey: KeyObject): SignedBundle {
  const body = canonicalJson(payload);
  let keyId = signerIds.get(privateKey);
  if (keyId === undefined) signerIds.set(privateKey, (keyId = keyIdOf(createPublicKey(privateKey))));
  return {
    format: BUNDLE_FORMAT,
    keyId,
    payload: body,
    signature: sign(null, Buffer.from(body, 'utf8'), privateKey).toString('base64'),
  };
}

/** The bytes that travel on the wire and are stored as received. */
export function encodeBundle(b: SignedBundle): Buffer {
  return Buffer.from(canonicalJson(b), 'utf8');
}

export interface VerifyOptions {
  /** Trusted hub signing keys by key id (rotation: old and new are both listed for a while). */
  trustedKeys: ReadonlyMap<string, KeyObject>;
  siteId: string;
  /** The generation currently applied (0 when none). */
  appliedGeneration: number;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks signature, key, site and generation; returns the payload or throws a BundleError. */
export function verifyBundle(bytes: Uint8Array | string, opts: VerifyOptions): BundlePayload {
  let env: unknown;
  try {
    env = JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new BundleError('BUNDLE_MALFORMED', 'bundle is not JSON');
  }
  if (!isObj(env) || env.format !== BUNDLE_FORMAT || typeof env.payload !== 'string') {
    throw new BundleError('BUNDLE_MALFORMED', `bundle envelope must have format ${BUNDLE_FORMAT} and a payload string`);
  }
  if (typeof env.signature !== 'string' || env.signature === '' || typeof env.keyId !== 'string') {
    throw new BundleError('BUNDLE_UNSIGNED', 'bundle has no signature');
  }
  const key = opts.trustedKeys.get(env.keyId);
  if (!key) throw new BundleError('BUNDLE_UNKNOWN_KEY', `bundle signed by key ${env.keyId}, which this site does not trust`);
  const sig = Buffer.from(env.signature, 'base64');
  if (!verify(null, Buffer.from(env.payload, 'utf8'), key, sig)) {
    throw new BundleError('BUNDLE_BAD_SIGNATURE', 'bundle signature does not verify: tampered or forged');
  }
  let p: unknown;
  try {
    p = JSON.parse(env.payload);
  } catch {
    throw new BundleError('BUNDLE_MALFORMED', 'bundle payload is not JSON');
  }
  if (
    !isObj(p) ||
    typeof p.siteId !== 'string' ||
    !Number.isSafeInteger(p.generation) ||
    (p.generation as number) < 1 ||
    typeof p.issuedAt !== 'string' ||
    !Number.isSafeInteger(p.policyVersion) ||
    !Array.isArray(p.policies)
  ) {
    throw new BundleError('BUNDLE_MALFORMED', 'bundle payload lacks siteId, generation, issuedAt, policyVersion or policies');
  }
  const payload = p as unknown as BundlePayload;
  if (payload.siteId !== opts.siteId) {
    throw new BundleError('BUNDLE_WRONG_SITE', `bundle is for site ${payload.siteId}, this is site ${opts.siteId}`);
  }
  if (payload.generation <= opts.appliedGeneration) {
    throw new BundleError('BUNDLE_STALE_GENERATION', `bundle generation ${payload.generation} <= applied generation ${opts.appliedGeneration}`);
  }
  return payload;
}
