// The agent's k3s reflectors against the fake API server, over real HTTP (the real list/watch protocol).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FakeApiServer } from './testing/fake-apiserver.ts';
import { createKubeInventory, loadKubeConfig } from './inventory-source.ts';
import { loadPolicies } from '../../policy/index.ts';
import { anp, banp, cnp, netpol, node, ns, pod } from './testing/objects.ts';
import { KubeError, type KubeInventory, type KubeInventoryOptions, type KubeSnapshot } from './types.ts';

const dir = mkdtempSync(join(tmpdir(), 'weft-kube-'));
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
async function setup(server: Partial<ConstructorParameters<typeof FakeApiServer>[0]> = {}, inv: KubeInventoryOptions = {}) {
  const api = await FakeApiServer.start({ token: 'sekret', bookmarkIntervalMs: 60_000, ...server });
  cleanups.push(() => api.stop());
  const kubeconfig = join(dir, `kubeconfig-${n++}.yaml`);
  api.writeKubeconfig(kubeconfig);
  const source = createKubeInventory({ kubeconfig, minBackoffMs: 30, maxBackoffMs: 200, resyncMs: 0, ...inv });
  cleanups.push(() => source.stop());
  return { api, source, kubeconfig };
}

/** Resolves with the first snapshot (current or from a later change) that satisfies pred. */
function until(source: KubeInventory, pred: (s: KubeSnapshot) => boolean, what: string, ms = 10_000): Promise<KubeSnapshot> {
  return new Promise((resolve, reject) => {
    const check = (s: KubeSnapshot) => {
      if (!pred(s)) return;
      clearTimeout(timer);
      source.off('change', check);
      resolve(s);
    };
    const timer = setTimeout(() => {
      source.off('change', check);
      reject(new Error(`timed out waiting for ${what}: ${JSON.stringify(source.snapshot().pods.map((p) => p.name))}`));
    }, ms);
    source.on('change', check);
    check(source.snapshot());
  });
}

const names = (s: KubeSnapshot) => s.pods.map((p) => `${p.namespace}/${p.name}`);
const seed = [
  ns('shop', { team: 'retail' }),
  ns('ops'),
  pod('shop', 'web-1', { labels: { app: 'web' }, ip: '10.42.0.5', ports: [8080] }),
  pod('ops', 'mon', { labels: { app: 'mon' }, ip: '10.42.1.9', node: 'node-b', phase: 'Pending' }),
  netpol('shop', 'db-from-web', 'db'),
  anp('deny-all', 10),
  banp(),
];

describe('kube inventory (list/watch reflectors against the fake API server)', () => {
  it('initial list: namespaces, pods mapped to the policy inventory, raw policies incl. ANP/BANP', async () => {
    const { source } = await setup({ objects: seed });
    const s = await source.start();
    expect(s.namespaces).toEqual([
      { name: 'ops', labels: {} },
      { name: 'shop', labels: { team: 'retail' } },
    ]);
    expect(s.pods).toEqual([
      { namespace: 'ops', name: 'mon', labels: { app: 'mon' }, ports: [], ips: ['10.42.1.9'], node: 'node-b', phase: 'Pending' },
      {
        namespace: 'shop',
        name: 'web-1',
        labels: { app: 'web' },
        ports: [{ containerPort: 8080, protocol: 'TCP' }],
        ips: ['10.42.0.5'],
        node: 'node-a',
        phase: 'Running',
      },
    ]);
    expect(s.crds).toEqual({ clusterNetworkPolicies: true, adminNetworkPolicies: true, baselineAdminNetworkPolicies: true });
    expect(s.policies).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          metadata: expect.objectContaining({ name: 'db-from-web', namespace: 'shop' }),
          spec: expect.objectContaining({ podSelector: { matchLabels: { app: 'db' } } }),
        }),
        expect.objectContaining({
          apiVersion: 'policy.networking.k8s.io/v1alpha1',
          kind: 'AdminNetworkPolicy',
          spec: expect.objectContaining({ priority: 10 }),
        }),
        expect.objectContaining({ kind: 'BaselineAdminNetworkPolicy', metadata: expect.objectContaining({ name: 'default' }) }),
      ]),
    );
    expect(s.policies).toHaveLength(3);
    // Plain JSON (no Date objects from typed list results): what policy.loadPolicies expects.
    expect(JSON.parse(JSON.stringify(s.policies))).toEqual(s.policies);
    expect(source.status()).toMatchObject({ synced: true, lastError: null, relists: 0 });
  });

  it('adds, updates and deletes arrive as changes with the new snapshot', async () => {
    const { api, source } = await setup({ objects: seed });
    await source.start();
    const reasons: string[] = [];
    source.on('change', (_s, r) => reasons.push(r));
    api.create(pod('shop', 'web-2', { labels: { app: 'web' }, ip: '10.42.0.6' }));
    await until(source, (s) => names(s).includes('shop/web-2'), 'web-2 added');
    api.update({ ...api.get('Pod', 'shop', 'web-2')!, metadata: { ...api.get('Pod', 'shop', 'web-2')!.metadata, labels: { app: 'web', v: '2' } } });
    await until(source, (s) => s.pods.find((p) => p.name === 'web-2')?.labels.v === '2', 'web-2 relabelled');
    api.delete('Pod', 'shop', 'web-1');
    api.create(netpol('ops', 'mon-only', 'mon'));
    api.delete('AdminNetworkPolicy', undefined, 'deny-all');
    const s = await until(
      source,
      (x) => !names(x).includes('shop/web-1') && x.policies.length === 3 && !x.policies.some((p) => (p as { kind: string }).kind === 'AdminNetworkPolicy'),
      'deletes',
    );
    expect(names(s)).toEqual(['ops/mon', 'shop/web-2']);
    expect(reasons).toEqual(expect.arrayContaining(['add', 'update', 'delete']));
  });

  it('works without the ANP/BANP CRDs, and picks them up at a resync once installed', async () => {
    const { api, source } = await setup({ objects: seed.filter((o) => !o.kind?.includes('AdminNetworkPolicy')), crds: false }, { resyncMs: 100 });
    const s = await source.start();
    expect(s.crds).toEqual({ clusterNetworkPolicies: false, adminNetworkPolicies: false, baselineAdminNetworkPolicies: false });
    expect(s.policies).toHaveLength(1);
    expect(source.status().lastError).toBeNull();
    api.crds = true;
    api.create(anp('late', 5));
    const later = await until(source, (x) => x.crds.adminNetworkPolicies && x.policies.length === 2, 'CRDs discovered');
    expect(later.policies).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: 'AdminNetworkPolicy', metadata: expect.objectContaining({ name: 'late' }) })]),
    );
  });

  it('watches ClusterNetworkPolicy (v1alpha2) beside the deprecated v1alpha1 kinds, and the nodes with their addresses', async () => {
    const { api, source } = await setup({ objects: [...seed, node('node-a', '192.168.1.10', { role: 'infra' }), cnp('guard', 'Admin', 5)] });
    const s = await source.start();
    expect(s.nodes).toEqual([{ name: 'node-a', labels: { role: 'infra' }, addresses: ['192.168.1.10'] }]);
    expect(s.policies).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          apiVersion: 'policy.networking.k8s.io/v1alpha2',
          kind: 'ClusterNetworkPolicy',
          metadata: expect.objectContaining({ name: 'guard' }),
        }),
      ]),
    );
    // The policy core reads what the API gave: one Admin from each version, the Baseline from v1alpha1.
    const loaded = loadPolicies(s.policies, { file: 'k3s' });
    expect(loaded.errors).toEqual([]);
    expect(loaded.policies.admin.map((p) => [p.name, p.tier])).toEqual([
      ['guard', 'Admin'],
      ['deny-all', 'Admin'],
    ]);
    api.create(node('node-b', '192.168.1.11'));
    api.update({ ...api.get('ClusterNetworkPolicy', undefined, 'guard')!, spec: { ...(cnp('guard', 'Baseline', 1).spec as object) } });
    const later = await until(
      source,
      (x) => x.nodes.length === 2 && x.policies.some((p) => (p as { spec: { tier?: string } }).spec.tier === 'Baseline'),
      'node-b and the patched policy',
    );
    expect(later.nodes.map((n) => n.name)).toEqual(['node-a', 'node-b']);
  });

  it('watches ClusterNetworkPolicy when only the v1alpha2 CRD is installed, and no v1alpha1 kind', async () => {
    const { source } = await setup({ objects: [ns('shop'), cnp('guard', 'Baseline', 5)], crds: ['v1alpha2'] });
    const s = await source.start();
    expect(s.crds).toEqual({ clusterNetworkPolicies: true, adminNetworkPolicies: false, baselineAdminNetworkPolicies: false });
    expect(s.policies.map((p) => (p as { kind: string }).kind)).toEqual(['ClusterNetworkPolicy']);
  });

  it('bookmarks move the resourceVersion on, so resuming after history is compacted needs no relist', async () => {
    const { api, source } = await setup({ objects: seed, bookmarkIntervalMs: 25 });
    await source.start();
    const lists = { ...api.counts.lists };
    // Changes to namespaces only: the pod watch sees no event, just bookmarks carrying the newer resourceVersion.
    for (let i = 0; i < 5; i++) api.create(ns(`extra-${i}`));
    const rv = Number(api.resourceVersion);
    await until(source, (s) => s.namespaces.length === 7, 'namespaces');
    // Wait until every watch was sent a bookmark at least that new (the client reads it before the stream's end).
    for (let i = 0; i < 400 && !Object.keys(lists).every((r) => (api.counts.lastBookmarkRv[r] ?? 0) >= rv); i++) await new Promise((r) => setTimeout(r, 25));
    expect(Object.keys(lists).map((r) => (api.counts.lastBookmarkRv[r] ?? 0) >= rv)).not.toContain(false);
    api.compact(); // everything before `rv` is gone
    api.closeWatches(); // watches end, as at their timeout: informers resume from their last resourceVersion
    api.create(pod('shop', 'after-compact', { ip: '10.42.0.7' }));
    await until(source, (s) => names(s).includes('shop/after-compact'), 'pod after compaction');
    expect(Number(api.resourceVersion)).toBeGreaterThan(rv);
    expect(api.counts.lists).toEqual(lists);
    expect(source.status().relists).toBe(0);
  });

  it('410 Gone: an informer that missed compacted history relists and recovers the exact state', async () => {
    const { api, source } = await setup({ objects: seed });
    await source.start();
    await api.stop(); // the API server goes away; the informers lose their watches
    api.delete('Pod', 'shop', 'web-1');
    api.create(pod('shop', 'web-3', { labels: { app: 'web' }, ip: '10.42.0.8' }));
    api.update({ ...api.get('Namespace', undefined, 'ops')!, metadata: { name: 'ops', labels: { tier: 'infra' } } });
    api.compact(); // and while it was away, history was compacted past the informers' resourceVersion
    await api.listen();
    const s = await until(
      source,
      (x) => names(x).join() === 'ops/mon,shop/web-3' && x.namespaces.find((n) => n.name === 'ops')?.labels.tier === 'infra',
      'relisted state',
    );
    expect(s.pods.find((p) => p.name === 'web-3')?.ips).toEqual(['10.42.0.8']);
    expect(source.status().relists).toBeGreaterThanOrEqual(2);
    expect(api.counts.lists.pods).toBeGreaterThanOrEqual(2);
  });

  it('API server restart without compaction: reconnects and replays what it missed from its resourceVersion', async () => {
    const { api, source } = await setup({ objects: seed });
    await source.start();
    const firstError = new Promise<string>((resolve) => source.on('error', (e) => resolve(e.code)));
    await api.stop();
    api.create(pod('shop', 'while-down', { ip: '10.42.0.9' }));
    expect(await firstError).toBe('KUBE_UNREACHABLE'); // a reconnect attempt failed while it was down
    await api.listen();
    await until(source, (s) => names(s).includes('shop/while-down'), 'missed pod replayed');
    expect(source.status().relists).toBe(0);
    expect(source.status().connected.pods).toBe(true);
  });

  it('a wrong or missing token is a clear KUBE_AUTH error', async () => {
    const { api } = await setup({ objects: seed, token: 'right' });
    for (const user of ['token: wrong', '{}']) {
      const path = join(dir, `bad-${n++}.yaml`);
      writeFileSync(path, api.kubeconfig().replace('token: right', user));
      const inv = createKubeInventory({ kubeconfig: path, minBackoffMs: 30, maxBackoffMs: 60 });
      cleanups.push(() => inv.stop());
      const err = await inv.start().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(KubeError);
      expect(err).toMatchObject({ code: 'KUBE_AUTH', message: expect.stringContaining('401') });
      expect((err as KubeError).hint).toMatch(/token/);
      expect(inv.status()).toMatchObject({ synced: false, lastError: { code: 'KUBE_AUTH' } });
    }
  });

  it('an unreachable API server is KUBE_UNREACHABLE; a missing kubeconfig or no in-cluster env is KUBE_CONFIG', async () => {
    const { api, kubeconfig } = await setup();
    await api.stop();
    const inv = createKubeInventory({ kubeconfig, minBackoffMs: 30, maxBackoffMs: 60 });
    cleanups.push(() => inv.stop());
    await expect(inv.start()).rejects.toMatchObject({ code: 'KUBE_UNREACHABLE', hint: expect.stringContaining('k3s') });
    await expect(createKubeInventory({ kubeconfig: join(dir, 'nope.yaml') }).start()).rejects.toMatchObject({ code: 'KUBE_CONFIG' });
    await expect(loadKubeConfig({}, {})).rejects.toMatchObject({ code: 'KUBE_CONFIG', message: expect.stringContaining('KUBERNETES_SERVICE_HOST') });
  });

  it('onlyLocalPods watches this node only (fieldSelector), and sees a pod once it is scheduled here', async () => {
    const pending = pod('shop', 'new', { ip: undefined });
    (pending.spec as { nodeName?: string }).nodeName = undefined;
    const { api, source } = await setup({ objects: [...seed, pending] }, { nodeName: 'node-a', onlyLocalPods: true });
    const s = await source.start();
    expect(names(s)).toEqual(['shop/web-1']);
    const p = api.get('Pod', 'shop', 'new')!;
    api.update({ ...p, spec: { ...(p.spec as object), nodeName: 'node-a' }, status: { phase: 'Running', podIP: '10.42.0.11' } });
    await until(source, (x) => names(x).includes('shop/new'), 'scheduled pod');
    api.delete('Pod', 'ops', 'mon'); // on node-b: not watched, no change
    expect(names(source.snapshot())).toEqual(['shop/new', 'shop/web-1']);
  });

  it('resync re-emits the snapshot', async () => {
    const { source } = await setup({ objects: seed }, { resyncMs: 50 });
    await source.start();
    const s = await new Promise<KubeSnapshot>((resolve) =>
      source.on('change', (x, reason) => {
        if (reason === 'resync') resolve(x);
      }),
    );
    expect(names(s)).toEqual(['ops/mon', 'shop/web-1']);
  });
});

describe('one API server, several nodes (a multi-node site)', () => {
  it("every node's agent lists every pod with its node, and the Nodes with their addresses; each is synced", async () => {
    const objects = [
      ns('shop'),
      node('node-1', '192.168.77.1'),
      node('node-2', '192.168.77.2'),
      node('node-3', '192.168.77.3'),
      pod('shop', 'pos-1', { labels: { app: 'pos' }, ip: '10.42.1.5', node: 'node-1' }),
      pod('shop', 'db-2', { labels: { app: 'db' }, ip: '10.42.2.5', node: 'node-2' }),
      pod('shop', 'web-3', { labels: { app: 'web' }, ip: '10.42.3.5', node: 'node-3' }),
    ];
    const { kubeconfig } = await setup({ objects });
    for (const nodeName of ['node-1', 'node-2', 'node-3']) {
      const source = createKubeInventory({ kubeconfig, nodeName, minBackoffMs: 30, maxBackoffMs: 200, resyncMs: 0 });
      cleanups.push(() => source.stop());
      const snap = await source.start();
      expect(snap.pods.map((p) => [p.name, p.node])).toEqual([
        ['db-2', 'node-2'],
        ['pos-1', 'node-1'],
        ['web-3', 'node-3'],
      ]);
      expect(snap.nodes.map((n) => n.name)).toEqual(['node-1', 'node-2', 'node-3']);
      expect(source.status().synced).toBe(true);
    }
  });
});
