// The fake API server checked against the real Kubernetes client: @kubernetes/client-node's ListWatch (what
// makeInformer builds) over its generated list calls and its Watch. The agent no longer uses client-node (see
// inventory-source.ts), but a client the whole ecosystem relies on agreeing with the fake is what makes the
// agent's own tests against the fake mean something.
import { CoreV1Api, KubeConfig, ListWatch, NetworkingV1Api, Watch, type KubernetesObject } from '@kubernetes/client-node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeApiServer, type KubeObject } from './fake-apiserver.ts';
import { netpol, ns, pod } from './objects.ts';

/**
 * client-node's Watch, asking for bookmarks as kube's own reflector does (makeInformer does not ask), with a
 * gate that holds reconnects back so a test can change and compact the server while no watch is open.
 */
class BookmarkWatch extends Watch {
  gate: Promise<void> = Promise.resolve();
  override async watch(...[path, query, cb, done]: Parameters<Watch['watch']>): ReturnType<Watch['watch']> {
    await this.gate;
    return super.watch(path, { ...query, allowWatchBookmarks: true }, cb, done);
  }
}

const servers: FakeApiServer[] = [];
const informers: ListWatch<KubernetesObject>[] = [];
afterEach(async () => {
  for (const i of informers.splice(0)) await i.stop();
  for (const s of servers.splice(0)) await s.stop();
});

async function setup() {
  const s = await FakeApiServer.start({
    token: 'tok',
    bookmarkIntervalMs: 50,
    objects: [ns('shop'), pod('shop', 'a', { labels: { app: 'web' } }), pod('shop', 'b'), netpol('shop', 'np1', 'web')],
  });
  servers.push(s);
  const kc = new KubeConfig();
  kc.loadFromString(s.kubeconfig());
  const core = kc.makeApiClient(CoreV1Api);
  const net = kc.makeApiClient(NetworkingV1Api);
  const watch = new BookmarkWatch(kc);
  // No reconnect backoff: the test drives reconnects on purpose.
  const noDelay = { delayFn: async () => undefined };
  const make = (path: string, list: () => Promise<{ items: KubernetesObject[]; metadata?: { resourceVersion?: string } }>) => {
    const lw = new ListWatch<KubernetesObject>(path, watch, list, false, undefined, undefined, noDelay);
    const seen: string[] = [];
    const errors: unknown[] = [];
    lw.on('add', (o) => seen.push(`add ${o.metadata?.name}`));
    lw.on('update', (o) => seen.push(`update ${o.metadata?.name}`));
    lw.on('delete', (o) => seen.push(`delete ${o.metadata?.name}`));
    lw.on('error', (e) => errors.push(e));
    informers.push(lw);
    return {
      lw,
      seen,
      errors,
      names: () =>
        lw
          .list()
          .map((o) => o.metadata?.name)
          .sort(),
    };
  };
  const pods = make('/api/v1/pods', () => core.listPodForAllNamespaces());
  const nss = make('/api/v1/namespaces', () => core.listNamespace());
  const nps = make('/apis/networking.k8s.io/v1/networkpolicies', () => net.listNetworkPolicyForAllNamespaces());
  for (const i of [pods, nss, nps]) await i.lw.start();
  return { s, pods, nss, nps, watch };
}

/** Polls until cond holds; generous timeout for a loaded machine. */
const eventually = (cond: () => boolean, what: string) =>
  vi.waitFor(
    () => {
      if (!cond()) throw new Error(`timed out waiting for: ${what}`);
    },
    { timeout: 15_000, interval: 20 },
  );
const labelled = (o: KubeObject, labels: Record<string, string>): KubeObject => ({ ...o, metadata: { ...o.metadata, labels } });

describe('fake API server with @kubernetes/client-node', () => {
  it('initial list, then watched add/update/delete for pods, namespaces and networkpolicies', async () => {
    const { s, pods, nss, nps } = await setup();
    expect(pods.names()).toEqual(['a', 'b']);
    expect(nss.names()).toEqual(['shop']);
    expect(nps.names()).toEqual(['np1']);
    // The generated client deserialized the fake's list into typed objects.
    expect(pods.lw.get('a', 'shop')).toMatchObject({ metadata: { labels: { app: 'web' } }, spec: { nodeName: 'node-a' }, status: { phase: 'Running' } });

    s.create(ns('bank'));
    s.create(pod('bank', 'c'));
    s.update(labelled(s.get('Pod', 'shop', 'a')!, { app: 'db' }));
    s.delete('Pod', 'shop', 'b');
    s.create(netpol('bank', 'np2', 'db'));
    s.delete('NetworkPolicy', 'shop', 'np1');
    await eventually(() => pods.names().join() === 'a,c' && nss.names().join() === 'bank,shop' && nps.names().join() === 'np2', 'watch events applied');
    expect(pods.seen).toEqual(['add a', 'add b', 'add c', 'update a', 'delete b']);
    expect(nps.seen).toEqual(['add np1', 'add np2', 'delete np1']);
    expect(pods.lw.get('a', 'shop')!.metadata!.labels).toEqual({ app: 'db' });
    expect([...pods.errors, ...nss.errors, ...nps.errors]).toEqual([]);
  });

  it('bookmarks advance the resourceVersion, so a dropped watch resumes without a relist', async () => {
    const { s, pods } = await setup();
    s.create(ns('elsewhere')); // moves the global resourceVersion past the last pod event
    const rv = s.resourceVersion;
    await eventually(() => pods.lw.latestResourceVersion() === rv, 'bookmark carried the resourceVersion to the client');
    const lists = s.counts.lists.pods;
    const watches = s.counts.watches.pods;
    s.closeWatches();
    await eventually(() => s.counts.watches.pods > watches, 'watch resumed');
    s.create(pod('shop', 'c'));
    await eventually(() => pods.names().join() === 'a,b,c', 'event after the resume');
    expect(s.counts.lists.pods).toBe(lists);
    expect(pods.errors).toEqual([]);
  });

  it('410 Gone on an expired resourceVersion leads to a relist that converges, deletes seen while gone included', async () => {
    const { s, pods, nss, watch } = await setup();
    const lists = s.counts.lists.pods;
    const watches = s.counts.watches.pods;
    // Changes land while no watch is open (and no bookmark moves the clients on): they reconnect from an old resourceVersion.
    let open!: () => void;
    watch.gate = new Promise((r) => {
      open = r;
    });
    s.closeWatches();
    s.delete('Pod', 'shop', 'b');
    s.create(ns('bank'));
    s.create(pod('bank', 'c'));
    s.update(labelled(s.get('Pod', 'shop', 'a')!, { app: 'db' }));
    s.compact();
    // The held reconnects resume from the old resourceVersion: the server answers ERROR 410 Expired.
    open();
    await eventually(() => pods.names().join() === 'a,c' && nss.names().join() === 'bank,shop', 'relist converged');
    expect(s.counts.lists.pods).toBe(lists + 1);
    // The informer opens its next watch after handing the relist over: converged state can come first.
    await eventually(() => s.counts.watches.pods >= watches + 2, 'the watch after the relist');
    expect(s.counts.watches.pods).toBe(watches + 2); // the expired resume, then the watch after the relist
    expect(pods.seen.slice(2).sort()).toEqual(['add c', 'delete b', 'update a']);
    expect(pods.lw.get('a', 'shop')!.metadata!.labels).toEqual({ app: 'db' });
    // And it keeps watching after the relist.
    s.create(pod('shop', 'd'));
    await eventually(() => pods.names().join() === 'a,c,d', 'watch after relist');
    expect([...pods.errors, ...nss.errors]).toEqual([]);
  });
});
