// The agent's inventory from the local k3s API: for namespaces, pods, nodes, NetworkPolicies and, when the
// cluster serves them, ClusterNetworkPolicies (v1alpha2) and the deprecated AdminNetworkPolicies /
// BaselineAdminNetworkPolicies (v1alpha1), a reflector of our own: list, then watch
// from the list's resourceVersion (with bookmarks and a server-side timeout, so a quiet watch resumes from a
// fresh resourceVersion instead of relisting), relist on 410 Gone, retry a failed list or watch with jittered
// backoff. CRDs are discovered (absent CRDs are not an error; they are looked for again at each resync), and
// a periodic resync re-emits the snapshot so consumers reconcile.
//
// Not @kubernetes/client-node's informers: loading that library costs ~100 MB of RSS (its generated API
// models), and its caches keep whole objects. The cache here keeps only what the snapshot needs: the pod and
// namespace fields the policy compiler reads, and policies without managedFields.
import { EventEmitter } from 'node:events';
import { KubeApi, KubeHttpError, type WatchEvent } from './api-client.ts';
import { apiVersionOf, collectionPath, POLICY_API_GROUP, RESOURCES, type ResourceDef } from './api-resources.ts';
import { toKubeError } from './errors.ts';
import { loadKubeConfig, type KubeTarget } from './kubeconfig.ts';
import { byKey, toNamespace, toNode, toPod, toRawPolicy } from './snapshot.ts';
import {
  KubeError,
  type ChangeReason,
  type KubeInventory,
  type KubeInventoryEvents,
  type KubeInventoryOptions,
  type KubeInventoryStatus,
  type KubePod,
  type KubeSnapshot,
} from './types.ts';
import type { NamespaceInfo, NodeInfo } from '../../policy/index.ts';

export { loadKubeConfig };

type RawObject = WatchEvent['object'] & { metadata?: { name?: string; namespace?: string; resourceVersion?: string } };
type Item = KubePod | NamespaceInfo | NodeInfo | unknown;

interface Watched {
  def: ResourceDef;
  items: Map<string, Item>;
  /** Where the watch resumes; '' = list first. */
  rv: string;
  connected: boolean;
  listed: boolean;
  lists: number;
  failures: number;
}

/** The watch answered 410 Gone: the resourceVersion was compacted away, relist. */
class Gone extends Error {}

const keyOf = (o: RawObject) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

/** Which network-policy-api resources the cluster serves: each version of the group on its own (v1alpha2's
 *  ClusterNetworkPolicy and v1alpha1's ANP/BANP are separate CRDs, installed together or apart). */
async function discoverPolicyCrds(api: KubeApi, signal: AbortSignal): Promise<ResourceDef[]> {
  const groups = await api.get<{ groups?: { name: string; versions?: { version: string }[] }[] }>('/apis', signal);
  const group = groups.groups?.find((g) => g.name === POLICY_API_GROUP);
  const out: ResourceDef[] = [];
  for (const { version } of group?.versions ?? []) {
    if (!RESOURCES.some((d) => d.crd && d.version === version)) continue;
    const served = await api.get<{ resources?: { name: string }[] }>(`/apis/${POLICY_API_GROUP}/${version}`, signal);
    out.push(...RESOURCES.filter((d) => d.crd && d.version === version && (served.resources ?? []).some((r) => r.name === d.resource)));
  }
  return out;
}

const POLICY_RESOURCES = ['networkpolicies', 'clusternetworkpolicies', 'adminnetworkpolicies', 'baselineadminnetworkpolicies'];

export function createKubeInventory(opts: KubeInventoryOptions, deps: { target?: KubeTarget; clock?: () => number } = {}): KubeInventory {
  const clock = deps.clock ?? Date.now;
  const emitter = new EventEmitter();
  const watched = new Map<string, Watched>();
  const abort = new AbortController();
  const minBackoff = opts.minBackoffMs ?? 250;
  const maxBackoff = opts.maxBackoffMs ?? 30_000;
  let started = false;
  let api: KubeApi | undefined;
  let synced = false;
  let relists = 0;
  let lastError: KubeInventoryStatus['lastError'] = null;
  let resyncTimer: NodeJS.Timeout | undefined;
  let discoveryFailures = 0;
  let firstSync: { resolve(s: KubeSnapshot): void; reject(e: KubeError): void; settled: boolean } | undefined;
  const stopped = () => abort.signal.aborted;

  const backoff = (failures: number) => {
    const base = Math.min(maxBackoff, minBackoff * 2 ** Math.max(0, failures - 1));
    return Math.round(base * (0.8 + Math.random() * 0.4));
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      abort.signal.addEventListener(
        'abort',
        () => {
          clearTimeout(t);
          resolve();
        },
        { once: true },
      );
    });
  const itemsOf = <T>(resource: string) => [...(watched.get(resource)?.items.values() ?? [])] as T[];

  function snapshot(): KubeSnapshot {
    return {
      namespaces: itemsOf<NamespaceInfo>('namespaces').sort(byKey),
      pods: itemsOf<KubePod>('pods')
        .filter((p) => !opts.onlyLocalPods || p.node === opts.nodeName)
        .sort(byKey),
      nodes: itemsOf<NodeInfo>('nodes').sort(byKey),
      policies: POLICY_RESOURCES.flatMap((r) => itemsOf<unknown>(r)),
      crds: {
        clusterNetworkPolicies: watched.has('clusternetworkpolicies'),
        adminNetworkPolicies: watched.has('adminnetworkpolicies'),
        baselineAdminNetworkPolicies: watched.has('baselineadminnetworkpolicies'),
      },
    };
  }

  function fail(err: KubeError): void {
    lastError = { code: err.code, message: err.message, at: clock() };
    if (emitter.listenerCount('error') > 0) emitter.emit('error', err);
    if (firstSync && !firstSync.settled) {
      firstSync.settled = true;
      firstSync.reject(err);
    }
  }

  function changed(reason: ChangeReason): void {
    if (synced) emitter.emit('change', snapshot(), reason);
  }

  function checkSynced(): void {
    if (synced || [...watched.values()].some((w) => !w.listed)) return;
    synced = true;
    const s = snapshot();
    if (firstSync && !firstSync.settled) {
      firstSync.settled = true;
      firstSync.resolve(s);
    }
    emitter.emit('change', s, 'sync');
  }

  /** Only what the snapshot reads is kept: whole pod objects would cost ~10 KB each. */
  function slim(def: ResourceDef, o: RawObject): Item {
    if (def.resource === 'pods') return toPod(o);
    if (def.resource === 'namespaces') return toNamespace(o);
    if (def.resource === 'nodes') return toNode(o);
    return toRawPolicy(o, apiVersionOf(def), def.kind);
  }

  function path(def: ResourceDef, watchFrom?: string): string {
    const q = new URLSearchParams();
    if (def.resource === 'pods' && opts.onlyLocalPods && opts.nodeName) q.set('fieldSelector', `spec.nodeName=${opts.nodeName}`);
    if (watchFrom !== undefined) {
      q.set('watch', 'true');
      q.set('resourceVersion', watchFrom);
      q.set('allowWatchBookmarks', 'true');
      q.set('timeoutSeconds', String(opts.watchTimeoutS ?? 300));
    }
    const s = q.toString();
    return `${collectionPath(def)}${s ? `?${s}` : ''}`;
  }

  async function list(w: Watched, k: KubeApi): Promise<void> {
    const l = await k.get<{ metadata?: { resourceVersion?: string }; items?: RawObject[] }>(path(w.def), abort.signal);
    if (w.lists++ > 0) relists += 1;
    w.items = new Map((l.items ?? []).map((o) => [keyOf(o), slim(w.def, o)]));
    w.rv = l.metadata?.resourceVersion ?? '';
    const first = !w.listed;
    w.listed = true;
    if (first) checkSynced();
    else changed('update');
  }

  function onEvent(w: Watched, e: WatchEvent): void {
    const o = e.object as RawObject;
    if (e.type === 'ERROR') {
      if (o.code === 410) throw new Gone(o.message ?? '410 Gone');
      throw new KubeHttpError(o.code ?? 0, `watch error: ${o.message ?? 'unknown'}`);
    }
    if (o.metadata?.resourceVersion) w.rv = o.metadata.resourceVersion;
    if (e.type === 'BOOKMARK') return;
    const key = keyOf(o);
    if (e.type === 'DELETED') {
      w.items.delete(key);
      changed('delete');
      return;
    }
    const had = w.items.has(key);
    w.items.set(key, slim(w.def, o));
    changed(had ? 'update' : 'add');
  }

  /** List, then watch and re-watch from the last resourceVersion, until stop(). */
  async function reflect(w: Watched, k: KubeApi): Promise<void> {
    while (!stopped()) {
      try {
        if (!w.rv) await list(w, k);
        await k.watch(
          path(w.def, w.rv),
          (e) => onEvent(w, e),
          () => {
            w.connected = true;
            w.failures = 0;
          },
          abort.signal,
        );
      } catch (err) {
        w.connected = false;
        if (stopped()) return;
        if (err instanceof Gone) {
          w.rv = '';
          continue;
        }
        w.failures += 1;
        fail(toKubeError(err, `${w.def.resource} list/watch`, k.server));
        await sleep(backoff(w.failures));
      }
    }
  }

  function watch(def: ResourceDef, k: KubeApi): void {
    const w: Watched = { def, items: new Map(), rv: '', connected: false, listed: false, lists: 0, failures: 0 };
    watched.set(def.resource, w);
    void reflect(w, k);
  }

  async function discover(k: KubeApi): Promise<void> {
    while (!stopped()) {
      try {
        const crds = await discoverPolicyCrds(k, abort.signal);
        discoveryFailures = 0;
        for (const d of crds) if (!watched.has(d.resource) && !stopped()) watch(d, k);
        if (!watched.has('namespaces')) for (const d of RESOURCES.filter((r) => !r.crd)) watch(d, k);
        return;
      } catch (err) {
        if (stopped()) return;
        fail(toKubeError(err, 'API discovery', k.server));
        discoveryFailures += 1;
        await sleep(backoff(discoveryFailures));
      }
    }
  }

  return {
    async start() {
      if (started) throw new KubeError('KUBE_CONFIG', 'start() was already called');
      started = true;
      const k = new KubeApi(deps.target ?? (await loadKubeConfig(opts)));
      api = k;
      const done = new Promise<KubeSnapshot>((resolve, reject) => {
        firstSync = { resolve, reject, settled: false };
      });
      void discover(k);
      const every = opts.resyncMs ?? 300_000;
      if (every > 0) {
        resyncTimer = setInterval(() => {
          changed('resync');
          const hasAll = RESOURCES.every((d) => !d.crd || watched.has(d.resource));
          if (synced && !hasAll) void discover(k);
        }, every);
        resyncTimer.unref();
      }
      return done;
    },
    snapshot,
    status: () => ({
      synced,
      connected: Object.fromEntries([...watched].map(([r, w]) => [r, w.connected])),
      lastError,
      relists,
    }),
    on<E extends keyof KubeInventoryEvents>(event: E, fn: KubeInventoryEvents[E]) {
      emitter.on(event, fn);
    },
    off<E extends keyof KubeInventoryEvents>(event: E, fn: KubeInventoryEvents[E]) {
      emitter.off(event, fn);
    },
    async stop() {
      abort.abort();
      clearInterval(resyncTimer);
      api?.close();
    },
  };
}
