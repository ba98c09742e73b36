// The fake API server's wire protocol, checked with plain HTTP (what any Kubernetes client sees).
import { afterEach, describe, expect, it } from 'vitest';
import { FakeApiServer } from './fake-apiserver.ts';
import { ns, pod } from './objects.ts';

const servers: FakeApiServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

async function start(opts: ConstructorParameters<typeof FakeApiServer>[0] = {}) {
  const s = await FakeApiServer.start({ token: 'tok', objects: [ns('shop'), pod('shop', 'a', { labels: { app: 'web' } })], ...opts });
  servers.push(s);
  return s;
}
const auth = { authorization: 'Bearer tok' };
const get = async (s: FakeApiServer, path: string) => {
  const r = await fetch(s.url + path, { headers: auth });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> & { items?: { metadata: { name: string } }[] } };
};

interface WatchEvent {
  type: string;
  object: { metadata?: { name?: string; resourceVersion?: string }; code?: number; reason?: string };
}

/** Reads watch events until `stop` says enough or the server ends the stream. */
async function watch(
  s: FakeApiServer,
  path: string,
  stop: (evs: WatchEvent[]) => boolean = () => false,
  act?: () => void,
): Promise<{ events: WatchEvent[]; ended: boolean }> {
  const ctl = new AbortController();
  const r = await fetch(s.url + path, { headers: auth, signal: ctl.signal });
  expect(r.status).toBe(200);
  act?.();
  const events: WatchEvent[] = [];
  let buf = '';
  const reader = r.body!.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return { events, ended: true };
    buf += Buffer.from(value).toString();
    const lines = buf.split('\n');
    buf = lines.pop()!;
    events.push(...lines.map((l) => JSON.parse(l) as WatchEvent));
    if (stop(events)) {
      ctl.abort();
      return { events, ended: false };
    }
  }
}

describe('fake API server', () => {
  it('401 Status without the bearer token; health checks need none', async () => {
    const s = await start();
    const r = await fetch(`${s.url}/api/v1/pods`);
    expect(r.status).toBe(401);
    expect(await r.json()).toMatchObject({ kind: 'Status', code: 401, reason: 'Unauthorized' });
    expect((await fetch(`${s.url}/api/v1/pods`, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    expect((await fetch(`${s.url}/readyz`)).status).toBe(200);
  });

  it('discovery: /api, /apis with the policy group only when CRDs are on, resource lists', async () => {
    const s = await start();
    expect((await get(s, '/api')).body).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const groups = (await get(s, '/apis')).body.groups as { name: string }[];
    expect(groups.map((g) => g.name)).toEqual(['networking.k8s.io', 'policy.networking.k8s.io']);
    expect((await get(s, '/apis/policy.networking.k8s.io/v1alpha1')).body).toMatchObject({
      kind: 'APIResourceList',
      resources: [
        expect.objectContaining({ name: 'adminnetworkpolicies', namespaced: false }),
        expect.objectContaining({ name: 'baselineadminnetworkpolicies' }),
      ],
    });
    expect((await get(s, '/api/v1')).body.resources).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'pods', namespaced: true, verbs: expect.arrayContaining(['list', 'watch']) })]),
    );
    s.crds = false;
    expect(((await get(s, '/apis')).body.groups as { name: string }[]).map((g) => g.name)).toEqual(['networking.k8s.io']);
    expect((await get(s, '/apis/policy.networking.k8s.io/v1alpha1/adminnetworkpolicies')).status).toBe(404);
  });

  it('list carries the global resourceVersion; get, namespaced paths, label and field selectors', async () => {
    const s = await start();
    s.create(pod('shop', 'b', { labels: { app: 'db' }, node: 'node-b' }));
    const all = await get(s, '/api/v1/pods');
    expect(all.body).toMatchObject({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: s.resourceVersion } });
    expect(all.body.items!.map((i) => i.metadata.name)).toEqual(['a', 'b']);
    expect((await get(s, '/api/v1/pods?labelSelector=app%20in%20(db,cache)')).body.items!.map((i) => i.metadata.name)).toEqual(['b']);
    expect((await get(s, '/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-a')).body.items!.map((i) => i.metadata.name)).toEqual(['a']);
    expect((await get(s, '/api/v1/namespaces/other/pods')).body.items).toEqual([]);
    expect((await get(s, '/api/v1/namespaces/shop/pods/b')).body).toMatchObject({ kind: 'Pod', metadata: { name: 'b', uid: expect.any(String) } });
    expect((await get(s, '/api/v1/namespaces/shop/pods/zzz')).status).toBe(404);
    expect((await get(s, '/api/v1/pods?labelSelector=%3D%3D')).body).toMatchObject({ code: 400 });
  });

  it('create/replace/delete over HTTP, with 409 on duplicates and 404 for a missing namespace', async () => {
    const s = await start();
    const post = (path: string, body: unknown, method = 'POST') =>
      fetch(s.url + path, { method, headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post('/api/v1/namespaces/shop/pods', pod('shop', 'c'))).status).toBe(201);
    expect((await post('/api/v1/namespaces/shop/pods', pod('shop', 'c'))).status).toBe(409);
    expect((await post('/api/v1/namespaces/nope/pods', pod('nope', 'c'))).status).toBe(404);
    expect((await post('/api/v1/namespaces/shop/pods/c', pod('shop', 'c', { labels: { v: '2' } }), 'PUT')).status).toBe(200);
    expect(s.get('Pod', 'shop', 'c')!.metadata.labels).toEqual({ v: '2' });
    expect((await fetch(`${s.url}/api/v1/namespaces/shop/pods/c`, { method: 'DELETE', headers: auth })).status).toBe(200);
    expect(s.get('Pod', 'shop', 'c')).toBeUndefined();
  });

  it('watch without a resourceVersion starts with the current state as ADDED, then live events', async () => {
    const s = await start();
    const { events } = await watch(
      s,
      '/api/v1/pods?watch=true',
      (e) => e.length >= 3,
      () => {
        s.create(pod('shop', 'b'));
        s.delete('Pod', 'shop', 'a');
      },
    );
    expect(events.map((e) => [e.type, e.object.metadata?.name])).toEqual([
      ['ADDED', 'a'],
      ['ADDED', 'b'],
      ['DELETED', 'a'],
    ]);
    expect(Number(events[2].object.metadata!.resourceVersion)).toBeGreaterThan(Number(events[1].object.metadata!.resourceVersion));
  });

  it('watch from a resourceVersion replays what came after it; selectors turn entering/leaving into ADDED/DELETED', async () => {
    const s = await start();
    const from = s.resourceVersion;
    s.create(pod('shop', 'b', { labels: { app: 'db' } }));
    const a = s.get('Pod', 'shop', 'a')!;
    s.update({ ...a, metadata: { ...a.metadata, labels: { app: 'db' } } }); // a enters app=db
    const { events } = await watch(
      s,
      `/api/v1/pods?watch=1&resourceVersion=${from}&labelSelector=app%3Ddb`,
      (e) => e.length >= 3,
      () => {
        const b = s.get('Pod', 'shop', 'b')!;
        s.update({ ...b, metadata: { ...b.metadata, labels: { app: 'web' } } }); // b leaves
      },
    );
    expect(events.map((e) => [e.type, e.object.metadata?.name])).toEqual([
      ['ADDED', 'b'],
      ['ADDED', 'a'],
      ['DELETED', 'b'],
    ]);
  });

  it('a resourceVersion older than the compacted history: watch gets an ERROR 410 Expired event and ends; list with Exact gets HTTP 410', async () => {
    const s = await start();
    const old = s.resourceVersion;
    s.create(pod('shop', 'b'));
    s.compact();
    const { events, ended } = await watch(s, `/api/v1/pods?watch=true&resourceVersion=${old}`);
    expect(ended).toBe(true);
    expect(events).toEqual([{ type: 'ERROR', object: expect.objectContaining({ kind: 'Status', code: 410, reason: 'Expired' }) }]);
    const list = await get(s, `/api/v1/pods?resourceVersion=${old}&resourceVersionMatch=Exact`);
    expect(list.status).toBe(410);
    // Bounded history compacts by itself.
    const small = await start({ historyLimit: 2 });
    const before = small.resourceVersion;
    for (let i = 0; i < 3; i++) small.create(ns(`n${i}`));
    expect((await watch(small, `/api/v1/namespaces?watch=true&resourceVersion=${before}`)).events[0].object.code).toBe(410);
  });

  it('allowWatchBookmarks sends BOOKMARKs with the current resourceVersion; timeoutSeconds ends the stream after a last bookmark', async () => {
    const s = await start({ bookmarkIntervalMs: 20 });
    const { events } = await watch(
      s,
      `/api/v1/pods?watch=true&resourceVersion=${s.resourceVersion}&allowWatchBookmarks=true`,
      (e) => e.some((x) => x.type === 'BOOKMARK' && x.object.metadata?.resourceVersion === s.resourceVersion && Number(s.resourceVersion) > 2),
      () => s.create(ns('elsewhere')),
    );
    expect(events.every((e) => e.type === 'BOOKMARK')).toBe(true);
    const t = await watch(s, `/api/v1/pods?watch=true&resourceVersion=${s.resourceVersion}&allowWatchBookmarks=true&timeoutSeconds=1`);
    expect(t.ended).toBe(true);
    expect(t.events.at(-1)).toMatchObject({ type: 'BOOKMARK', object: { kind: 'Pod', metadata: { resourceVersion: s.resourceVersion } } });
    expect((await watch(s, `/api/v1/pods?watch=true&resourceVersion=${s.resourceVersion}&timeoutSeconds=1`)).events).toEqual([]);
  });

  it('stop() drops open watches; listen() comes back on the same port with the same state', async () => {
    const s = await start();
    const url = s.url;
    const w = watch(s, `/api/v1/pods?watch=true&resourceVersion=${s.resourceVersion}`).catch((e: Error) => e);
    await new Promise((r) => setTimeout(r, 50));
    await s.stop();
    await w; // ended or aborted: either way the stream is gone
    await expect(fetch(`${url}/readyz`)).rejects.toThrow();
    await s.listen();
    expect(s.url).toBe(url);
    expect((await get(s, '/api/v1/pods')).body.items).toHaveLength(1);
  });
});
