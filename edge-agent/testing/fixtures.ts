// Shared test data: a hub signing key, signed bundles, an enrolled store, a small shop inventory
// and an in-memory KubeInventory that emits changes like the real informer source.
import { EventEmitter } from 'node:events';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { encodeBundle, signBundle, signBundleTree } from '../../policy/index.ts';
import type { AgentStore } from '../../offline-store/index.ts';
import type { KubeInventory, KubePod, KubeSnapshot } from '../kube/types.ts';
import { enrollResponse } from './hub-stub.ts';

export const SITE = 'store-042';

export function hubKey(): KeyObject {
  return generateKeyPairSync('ed25519').privateKey;
}

export function enrollStore(store: AgentStore, key: KeyObject, brokerUrl: string, siteId = SITE): void {
  store.identity.getOrCreate();
  store.identity.saveEnrollment({ ...enrollResponse(siteId, createPublicKey(key), brokerUrl), hubCaFingerprint: 'ab'.repeat(32) });
}

export const dbFromWeb = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { namespace: 'shop', name: 'db-from-web' },
  spec: {
    podSelector: { matchLabels: { app: 'db' } },
    policyTypes: ['Ingress'],
    ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ protocol: 'TCP', port: 5432 }] }],
  },
};

export function bundle(key: KeyObject, generation: number, opts: { siteId?: string; policies?: unknown[] } = {}): Buffer {
  return encodeBundle(
    signBundle(
      { siteId: opts.siteId ?? SITE, generation, issuedAt: '2026-11-25T12:00:00Z', policyVersion: generation, policies: opts.policies ?? [dbFromWeb] },
      key,
    ),
  );
}

/** Bundles as the hub sends a stage (format 2): one signature for these sites, each its own path to the signed root. */
export function treeBundles(key: KeyObject, sites: { siteId: string; generation: number }[], policies: unknown[] = [dbFromWeb]): Buffer[] {
  return signBundleTree({ issuedAt: '2026-11-25T12:00:00Z', policyVersion: 1, policies }, sites, key).map((b) => Buffer.from(b, 'utf8'));
}

const pod = (namespace: string, name: string, app: string, ip: string): KubePod => ({
  namespace,
  name,
  labels: { app },
  ports: [],
  ips: [ip],
  node: 'node-1',
  phase: 'Running',
});

export function shopSnapshot(extraPods: KubePod[] = []): KubeSnapshot {
  return {
    namespaces: [
      { name: 'shop', labels: { 'kubernetes.io/metadata.name': 'shop' } },
      { name: 'ops', labels: { 'kubernetes.io/metadata.name': 'ops' } },
    ],
    pods: [pod('shop', 'web', 'web', '10.42.0.1'), pod('shop', 'db', 'db', '10.42.0.2'), pod('ops', 'mon', 'mon', '10.42.1.1'), ...extraPods],
    policies: [],
    nodes: [],
    crds: { clusterNetworkPolicies: false, adminNetworkPolicies: false, baselineAdminNetworkPolicies: false },
  };
}

export { pod as kubePod };

/** Resolves pod IPs to made-up veths: 10.42.x.y -> ifindex 1000 + y + 256x. */
/** Every pod IP a.b.x.y has a veth, named and indexed from x and y. */
export const fakeVeths = async (ips: readonly string[]) =>
  new Map(
    ips.map((ip) => {
      const [, , x, y] = ip.split('.').map(Number);
      return [ip, { ifindex: 1000 + x * 256 + y, ifname: `veth${x}-${y}` }];
    }),
  );

export class FakeKube extends EventEmitter implements KubeInventory {
  constructor(public snap: KubeSnapshot) {
    super();
  }
  async start() {
    return this.snap;
  }
  snapshot() {
    return this.snap;
  }
  status() {
    return { synced: true, connected: {}, lastError: null, relists: 0 };
  }
  set(snap: KubeSnapshot) {
    this.snap = snap;
    this.emit('change', snap, 'update');
  }
  async stop() {}
}
