import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyIdOf } from './bundle.ts';
import { meshInventory, signMesh, verifyMesh, type MeshPayload } from './mesh-bundle.ts';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');
const trusted = new Map([[keyIdOf(publicKey), publicKey]]);

const payload: MeshPayload = {
  kind: 'mesh',
  siteId: 'b',
  generation: 5,
  issuedAt: '2026-01-01T00:00:00Z',
  self: { exportPrefix: '10.42.0.0/24', mappedPrefix: '100.64.2.0/24' },
  peers: [
    {
      siteId: 'a',
      publicKey: 'k',
      endpoints: ['203.0.113.1:40000'],
      overlay: ['10.99.0.2/32'],
      mappedPrefix: '100.64.1.0/24',
      namespaces: [{ name: 'shop', labels: { team: 'retail' } }],
      pods: [{ namespace: 'shop', name: 'pos-1', labels: { app: 'pos' }, ips: ['100.64.1.7'] }],
      services: [{ name: 'db', ips: ['100.64.1.9'] }],
    },
  ],
};

describe('peer bundles', () => {
  it('verify what the hub signed', () => {
    expect(verifyMesh(signMesh(payload, privateKey), { trustedKeys: trusted, siteId: 'b', heldGeneration: 4 })).toEqual(payload);
  });

  it.each<[string, () => Buffer | string, { siteId?: string; held?: number }, string]>([
    ['an untrusted key', () => signMesh(payload, other.privateKey), {}, 'BUNDLE_UNKNOWN_KEY'],
    ['another site', () => signMesh(payload, privateKey), { siteId: 'c' }, 'BUNDLE_WRONG_SITE'],
    ['an old generation', () => signMesh(payload, privateKey), { held: 5 }, 'BUNDLE_STALE_GENERATION'],
    ['a forged label', () => signMesh(payload, privateKey).toString('utf8').replace('\\"app\\":\\"pos\\"', '\\"app\\":\\"adm\\"'), {}, 'BUNDLE_BAD_SIGNATURE'],
    ['not JSON', () => 'nope', {}, 'BUNDLE_MALFORMED'],
  ])('refuse %s', (_name, bytes, o, code) => {
    expect(() => verifyMesh(bytes(), { trustedKeys: trusted, siteId: o.siteId ?? 'b', heldGeneration: o.held ?? 0 })).toThrow(
      expect.objectContaining({ code }),
    );
  });

  it('add remote pods to the inventory under their own namespace name, labelled with their site', () => {
    const inv = meshInventory(
      'b',
      {
        namespaces: [{ name: 'shop', labels: {} }],
        pods: [{ namespace: 'shop', name: 'db', labels: { app: 'db' }, ports: [], ips: ['10.42.0.9'], node: 'n1' }],
      },
      payload.peers,
    );
    expect(inv.namespaces).toEqual([
      { name: 'shop', labels: { 'weft.dev/site': 'b' } },
      { name: 'shop.a', labels: { 'kubernetes.io/metadata.name': 'shop', team: 'retail', 'weft.dev/site': 'a' } },
    ]);
    expect(inv.pods.map((p) => [p.namespace, p.name, p.labels, p.ips, p.node])).toEqual([
      ['shop', 'db', { app: 'db', 'weft.dev/site': 'b' }, ['10.42.0.9'], 'n1'],
      ['shop.a', 'pos-1', { app: 'pos', 'weft.dev/site': 'a' }, ['100.64.1.7'], undefined],
    ]);
  });
});
