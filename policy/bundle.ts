// Signed policy bundles: the unit the hub publishes to a site and the agent verifies before it
// stores or applies anything. Ed25519 over the canonical JSON of the payload.
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
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

/** A JSON string's escaped inside, without its quotes: JSON escaping of a concatenation is the concatenation of the parts'. */
const inner = (s: string): string => JSON.stringify(s).slice(1, -1);

const TREE_FORMAT = 2;

/** What a tree bundle's one signature covers: what every site of the set shares, and the root of their (site, generation) leaves. */
interface TreePayload {
  issuedAt: string;
  policyVersion: number;
  policies: unknown[];
  /** base64 SHA-256 root of the sites' leaves. */
  root: string;
}

/** A bundle of format 2: one signature for many sites, and this site's path from its leaf to the signed root. */
export interface SignedTreeBundle {
  format: typeof TREE_FORMAT;
  keyId: string;
  /** Canonical JSON of the TreePayload: the exact bytes that were signed. */
  payload: string;
  signature: string;
  /** Sibling hashes from the leaf up: "l" or "r" (the sibling's side) and base64 SHA-256. */
  proof: string[];
  site: { siteId: string; generation: number };
}

// Leaves and inner nodes hash with different prefixes (as in RFC 6962), so no inner node passes for a leaf.
const leafHash = (siteId: string, generation: number): Buffer =>
  createHash('sha256')
    .update(Buffer.from([0]))
    .update(canonicalJson({ generation, siteId }), 'utf8')
    .digest();
const nodeHash = (left: Buffer, right: Buffer): Buffer =>
  createHash('sha256')
    .update(Buffer.from([1]))
    .update(left)
    .update(right)
    .digest();

/**
 * Signs the bundles of many sites that carry the same policies (a stage of thousands of sites, one
 * policy version) with ONE Ed25519 signature: over the shared policies and the root of a hash tree
 * whose leaves are each site's (site id, generation). Each site's bundle carries the shared signed
 * payload and its path to the root, so the agent checks, as for format 1, that the hub's key signed
 * this bundle for this site at this generation: it cannot be replayed to another site or generation.
 * Returns the wire bytes of each site's bundle, in the order given.
 */
export function signBundleTree(
  shared: Omit<BundlePayload, 'siteId' | 'generation'>,
  sites: readonly { siteId: string; generation: number }[],
  privateKey: KeyObject,
): string[] {
  if (!sites.length) return [];
  for (const s of sites) if (!Number.isSafeInteger(s.generation) || s.generation < 1) throw new TypeError('signBundleTree: generations are integers >= 1');
  // levels[0] = leaves; an odd node out is carried up unchanged (it has no sibling at that level).
  const levels: Buffer[][] = [sites.map((s) => leafHash(s.siteId, s.generation))];
  while (levels[levels.length - 1].length > 1) {
    const below = levels[levels.length - 1];
    const up: Buffer[] = [];
    for (let i = 0; i < below.length; i += 2) up.push(i + 1 < below.length ? nodeHash(below[i], below[i + 1]) : below[i]);
    levels.push(up);
  }
  const payload = canonicalJson({ ...shared, root: levels[levels.length - 1][0].toString('base64') } satisfies TreePayload);
  let keyId = signerIds.get(privateKey);
  if (keyId === undefined) signerIds.set(privateKey, (keyId = keyIdOf(createPublicKey(privateKey))));
  const signature = sign(null, Buffer.from(payload, 'utf8'), privateKey).toString('base64');
  // Canonical key order: format, keyId, payload, proof, signature, site. The shared parts are escaped once.
  const head = `{"format":${TREE_FORMAT},"keyId":${JSON.stringify(keyId)},"payload":"${inner(payload)}","proof":`;
  const sig = `,"signature":"${signature}","site":`;
  return sites.map((s, leaf) => {
    const proof: string[] = [];
    let i = leaf;
    for (const level of levels.slice(0, -1)) {
      const sibling = i % 2 === 0 ? i + 1 : i - 1;
      if (sibling < level.length) proof.push((i % 2 === 0 ? 'r' : 'l') + level[sibling].toString('base64'));
      i = Math.floor(i / 2);
    }
    return `${head}${canonicalJson(proof)}${sig}${canonicalJson({ generation: s.generation, siteId: s.siteId })}}`;
  });
}

/** The root a site's leaf and path lead to; null when the path is not one this format makes. */
function rootOf(siteId: string, generation: number, proof: unknown): Buffer | null {
  if (!Array.isArray(proof) || proof.length > 64) return null;
  let h = leafHash(siteId, generation);
  for (const step of proof) {
    if (typeof step !== 'string' || (step[0] !== 'l' && step[0] !== 'r')) return null;
    const sibling = Buffer.from(step.slice(1), 'base64');
    if (sibling.length !== 32) return null;
    h = step[0] === 'l' ? nodeHash(sibling, h) : nodeHash(h, sibling);
  }
  return h;
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
  if (!isObj(env) || (env.format !== BUNDLE_FORMAT && env.format !== TREE_FORMAT) || typeof env.payload !== 'string') {
    throw new BundleError('BUNDLE_MALFORMED', `bundle envelope must have format ${BUNDLE_FORMAT} or ${TREE_FORMAT} and a payload string`);
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
  if (env.format === TREE_FORMAT) p = treeSite(env, p);
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

/**
 * A format-2 bundle as the payload format 1 would carry: the site and generation of its leaf, once its
 * path leads to the root the hub signed (the signature over the payload was checked before).
 */
function treeSite(env: Record<string, unknown>, p: unknown): unknown {
  const site = env.site;
  if (!isObj(p) || typeof p.root !== 'string' || !isObj(site) || typeof site.siteId !== 'string' || !Number.isSafeInteger(site.generation)) {
    throw new BundleError('BUNDLE_MALFORMED', 'tree bundle lacks its root, site or generation');
  }
  const root = rootOf(site.siteId, site.generation as number, env.proof);
  if (!root || root.toString('base64') !== p.root) {
    throw new BundleError('BUNDLE_BAD_SIGNATURE', "the bundle's site and generation are not among those the hub signed: tampered or forged");
  }
  const { root: _root, ...shared } = p;
  return { ...shared, siteId: site.siteId, generation: site.generation };
}
