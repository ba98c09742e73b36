import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyIdOf } from './bundle.ts';
import { compile } from './compile.ts';
import { evaluate } from './evaluate.ts';
import { loadPolicies } from './load.ts';
import { lookup } from './lookup.ts';
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

describe('policy across sites', () => {
  // At site B: shop/db admits site A's app=pos pods (selected by weft.dev/site and their labels), nothing else.
  const manifest = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'db-from-site-a-pos', namespace: 'shop' },
    spec: {
      podSelector: { matchLabels: { app: 'db' } },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [{ namespaceSelector: { matchLabels: { 'weft.dev/site': 'site-a' } }, podSelector: { matchLabels: { app: 'pos' } } }],
          ports: [{ port: 5432 }],
        },
      ],
    },
  };
  const peerA = {
    ...payload.peers[0],
    siteId: 'site-a',
    pods: [
      { namespace: 'shop', name: 'pos-1', labels: { app: 'pos' }, ips: ['100.64.2.7'] },
      { namespace: 'shop', name: 'admin-1', labels: { app: 'admin' }, ips: ['100.64.2.8'] },
    ],
  };
  const local = {
    namespaces: [{ name: 'shop', labels: { 'kubernetes.io/metadata.name': 'shop' } }],
    pods: [
      { namespace: 'shop', name: 'db-0', labels: { app: 'db' }, ports: [{ containerPort: 5432, protocol: 'TCP' as const }], ips: ['10.42.0.9'], node: 'n1' },
      { namespace: 'shop', name: 'pos-local', labels: { app: 'pos' }, ports: [], ips: ['10.42.0.7'], node: 'n1' },
    ],
  };
  const inventory = meshInventory('site-b', local, [peerA]);
  const { policies, errors } = loadPolicies([manifest], { file: 'test' });

  it.each<[string, string, 'allow' | 'deny']>([
    ["site A's app=pos pod, by its mapped address", '100.64.2.7', 'allow'],
    ["site A's app=pos pod, by name", 'shop.site-a/pos-1', 'allow'],
    ["site A's other pod", '100.64.2.8', 'deny'],
    ['a local app=pos pod (another site: B)', 'shop/pos-local', 'deny'],
    ['an address nobody owns', '100.64.2.99', 'deny'],
  ])('%s -> shop/db:5432 is %s (as the kernel decides: compiled tables, peers by address)', (_name, src, want) => {
    expect(errors).toEqual([]);
    const flow = { src, dst: 'shop/db-0', protocol: 'TCP' as const, port: 5432 };
    const v = lookup(compile(policies, inventory), flow);
    expect(v.allowed).toBe(want === 'allow');
    if (want === 'allow') expect(v.decidedBy).toMatchObject({ kind: 'NetworkPolicy', namespace: 'shop', name: 'db-from-site-a-pos' });
    // The reference evaluator agrees where it names the peer (it reads an address as external).
    if (!src.match(/^\d/)) expect(evaluate(policies, inventory, flow).allowed).toBe(want === 'allow');
  });

  it('compiles the remote pods to ipcache entries at their mapped addresses, with no endpoint of their own attached', () => {
    const t = compile(policies, inventory);
    expect(t.ipcache.map((e) => e.cidr)).toContain('100.64.2.7/32');
    expect(t.endpoints.find((e) => e.pod === 'shop/db-0')?.ips).toEqual(['10.42.0.9']);
  });
});
