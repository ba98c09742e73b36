// Signed peer bundles: what the hub tells a site about the sites it is linked with (their WireGuard
// keys and endpoints, their mapped blocks, their pods and namespaces with labels). Signed like policy
// bundles (Ed25519 over canonical JSON, the same hub keys), because a remote inventory decides what
// policy admits: a forged pod label would open a door. Pure.
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from '../base/pure.ts';
import { BundleError, keyIdOf } from './bundle.ts';
import type { NamespaceInfo, PodInfo } from './inventory.ts';

const MESH_FORMAT = 1;

/** The label every remote pod and namespace carries: which site it lives at. */
export const SITE_LABEL = 'weft.dev/site';

export interface MeshPeerPod {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  /** Mapped addresses (protocol/mesh.ts): what this site reaches the pod at. */
  ips: string[];
}

export interface MeshPeerService {
  name: string;
  /** Mapped addresses. */
  ips: string[];
}

export interface MeshPeer {
  siteId: string;
  /** base64 WireGuard public key. */
  publicKey: string;
  /** "ip:port" candidates: the one the hub observed first, then what the site reported. */
  endpoints: string[];
  /** The peer's overlay host routes (10.99.0.n/32, fd00:99::n/128): always via the peer, so the direct path is probed even while relayed. */
  overlay: string[];
  /** The peer's mapped block (where its pods are reached), routed to it (direct) or to the hub (relayed). */
  mappedPrefix: string;
  namespaces: NamespaceInfo[];
  pods: MeshPeerPod[];
  services: MeshPeerService[];
}

export interface MeshPayload {
  kind: 'mesh';
  siteId: string;
  /** Goes up with every change; an agent ignores one not above what it holds. */
  generation: number;
  issuedAt: string;
  /** This site's own mapping: its export prefix and where it lands in its mapped block. Null: it exports nothing yet. */
  self: { exportPrefix: string; mappedPrefix: string } | null;
  peers: MeshPeer[];
}

export interface SignedMesh {
  format: typeof MESH_FORMAT;
  keyId: string;
  payload: string;
  signature: string;
}

export function signMesh(payload: MeshPayload, privateKey: KeyObject): Buffer {
  const body = canonicalJson(payload);
  const env: SignedMesh = {
    format: MESH_FORMAT,
    keyId: keyIdOf(createPublicKey(privateKey)),
    payload: body,
    signature: sign(null, Buffer.from(body, 'utf8'), privateKey).toString('base64'),
  };
  return Buffer.from(canonicalJson(env), 'utf8');
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks signature, key, kind, site and generation (must be above `heldGeneration`); returns the payload or throws a BundleError. */
export function verifyMesh(
  bytes: Uint8Array | string,
  opts: { trustedKeys: ReadonlyMap<string, KeyObject>; siteId: string; heldGeneration: number },
): MeshPayload {
  let env: unknown;
  try {
    env = JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new BundleError('BUNDLE_MALFORMED', 'peer bundle is not JSON');
  }
  if (!isObj(env) || env.format !== MESH_FORMAT || typeof env.payload !== 'string')
    throw new BundleError('BUNDLE_MALFORMED', 'peer bundle envelope is malformed');
  if (typeof env.signature !== 'string' || env.signature === '' || typeof env.keyId !== 'string')
    throw new BundleError('BUNDLE_UNSIGNED', 'peer bundle has no signature');
  const key = opts.trustedKeys.get(env.keyId);
  if (!key) throw new BundleError('BUNDLE_UNKNOWN_KEY', `peer bundle signed by key ${env.keyId}, which this site does not trust`);
  if (!verify(null, Buffer.from(env.payload, 'utf8'), key, Buffer.from(env.signature, 'base64')))
    throw new BundleError('BUNDLE_BAD_SIGNATURE', 'peer bundle signature does not verify: tampered or forged');
  const p: unknown = JSON.parse(env.payload);
  if (!isObj(p) || p.kind !== 'mesh' || typeof p.siteId !== 'string' || !Number.isSafeInteger(p.generation) || !Array.isArray(p.peers))
    throw new BundleError('BUNDLE_MALFORMED', 'peer bundle payload lacks kind "mesh", siteId, generation or peers');
  const payload = p as unknown as MeshPayload;
  if (payload.siteId !== opts.siteId) throw new BundleError('BUNDLE_WRONG_SITE', `peer bundle is for site ${payload.siteId}, this is site ${opts.siteId}`);
  if (payload.generation <= opts.heldGeneration)
    throw new BundleError('BUNDLE_STALE_GENERATION', `peer bundle generation ${payload.generation} <= held generation ${opts.heldGeneration}`);
  return payload;
}

/** The namespace a remote site's namespace is known by locally: never equal to a local one (k8s names have no dots). */
export const remoteNamespace = (namespace: string, siteId: string): string => `${namespace}.${siteId}`;

/**
 * The inventory policy is compiled against at a linked site: the local one with `weft.dev/site: <own>` on
 * every namespace and pod, plus each peer's namespaces and pods (at their mapped addresses) labelled with
 * their site. Remote namespaces get their own name (`shop.site-a`), so a bare podSelector still means
 * "pods of my namespace here", while namespaceSelectors (by labels, kubernetes.io/metadata.name included)
 * reach remote pods; `weft.dev/site` narrows them to one site. Remote pods have no node: nothing is
 * attached to them, they are peers only (ipcache entries).
 */
export function meshInventory<I extends { namespaces: NamespaceInfo[]; pods: PodInfo[] }>(siteId: string, local: I, peers: readonly MeshPeer[]): I {
  const mark = (labels: Record<string, string>, site: string) => ({ ...labels, [SITE_LABEL]: site });
  const namespaces = local.namespaces.map((n) => ({ ...n, labels: mark(n.labels, siteId) }));
  const pods = local.pods.map((p) => ({ ...p, labels: mark(p.labels, siteId) }));
  for (const peer of peers) {
    for (const n of peer.namespaces)
      namespaces.push({ name: remoteNamespace(n.name, peer.siteId), labels: mark({ 'kubernetes.io/metadata.name': n.name, ...n.labels }, peer.siteId) });
    for (const p of peer.pods)
      pods.push({ namespace: remoteNamespace(p.namespace, peer.siteId), name: p.name, labels: mark(p.labels, peer.siteId), ports: [], ips: [...p.ips] });
  }
  return { ...local, namespaces, pods };
}
