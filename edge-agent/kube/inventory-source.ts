// The agent's inventory from the local k3s API: client-node informers (makeInformer: list, then watch from
// the list's resourceVersion; relist on 410 Gone) for namespaces, pods, NetworkPolicies and, when the cluster
// serves them, AdminNetworkPolicies / BaselineAdminNetworkPolicies.
//
// What client-node does not do and this adds: bookmarks and a server-side watch timeout (asked for in the
// watch URL, so a quiet watch resumes from a fresh resourceVersion instead of relisting); restarting an
// informer that gave up after an error (client-node stops on any error but 410), with jittered backoff;
// CRD discovery (absent CRDs are not an error; they are looked for again at each resync); a periodic resync
// that re-emits the snapshot so consumers reconcile.
import { existsSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import type { Informer, KubeConfig, KubernetesListObject, KubernetesObject, ObjectCache } from '@kubernetes/client-node';
import { apiVersionOf, collectionPath, POLICY_API_GROUP, RESOURCES, type ResourceDef } from './api-resources.ts';
import { loadClient, type K8s } from './client.ts';
import { toKubeError } from './errors.ts';
import { byKey, toNamespace, toPod, toRawPolicy } from './snapshot.ts';
import {
  KubeError, type ChangeReason, type KubeInventory, type KubeInventoryEvents, type KubeInventoryOptions,
  type KubeInventoryStatus, type KubeSnapshot,
} from './types.ts';

type Obj = KubernetesObject;
type ListFn = () => Promise<KubernetesListObject<Obj>>;

interface Watched {
  def: ResourceDef;
  informer: Informer<Obj> & ObjectCache<Obj>;
  connected: boolean;
  listed: boolean;
  starting: boolean;
  failures: number;
  lastError?: KubeError;
  retry?: NodeJS.Timeout;
}

export async function loadKubeConfig(opts: Pick<KubeInventoryOptions, 'kubeconfig'>, env: NodeJS.ProcessEnv = process.env): Promise<KubeConfig> {
  const kc = new (await loadClient()).KubeConfig();
  if (opts.kubeconfig !== undefined) {
    if (!existsSync(opts.kubeconfig)) {
      throw new KubeError('KUBE_CONFIG', `kubeconfig ${opts.kubeconfig} does not exist`, 'k3s writes it to /etc/rancher/k3s/k3s.yaml; pass --kubeconfig <path>');
    }
    try {
      kc.loadFromFile(opts.kubeconfig);
    } catch (err) {
      throw new KubeError('KUBE_CONFIG', `kubeconfig ${opts.kubeconfig}: ${(err as Error).message}`, 'check the file is a valid kubeconfig', { cause: err });
    }
  } else {
    if (!env.KUBERNETES_SERVICE_HOST) {
      throw new KubeError('KUBE_CONFIG', 'no kubeconfig given and not running in a pod (KUBERNETES_SERVICE_HOST is unset)',
        'pass --kubeconfig /etc/rancher/k3s/k3s.yaml, or run the agent as the k3s DaemonSet (edge-agent/deploy/k3s)');
    }
    kc.loadFromCluster();
  }
  if (!kc.getCurrentCluster()) throw new KubeError('KUBE_CONFIG', `kubeconfig ${opts.kubeconfig ?? '(in-cluster)'} has no current cluster`, 'set current-context');
  return kc;
}

/** Which network-policy-api resources the cluster serves, and in which version. */
async function discoverPolicyCrds(k8s: K8s, kc: KubeConfig): Promise<ResourceDef[]> {
  const groups = await kc.makeApiClient(k8s.ApisApi).getAPIVersions();
  const group = groups.groups.find((g) => g.name === POLICY_API_GROUP);
  if (!group) return [];
  const version = group.preferredVersion?.version ?? group.versions[0]?.version;
  if (!version) return [];
  const served = await kc.makeApiClient(k8s.CustomObjectsApi).getAPIResources({ group: POLICY_API_GROUP, version });
  return RESOURCES.filter((d) => d.crd && served.resources.some((r) => r.name === d.resource)).map((d) => ({ ...d, version }));
}

export function createKubeInventory(opts: KubeInventoryOptions, deps: { kubeConfig?: KubeConfig; clock?: () => number } = {}): KubeInventory {
  const clock = deps.clock ?? Date.now;
  const emitter = new EventEmitter();
  const watched = new Map<string, Watched>();
  const minBackoff = opts.minBackoffMs ?? 250;
  const maxBackoff = opts.maxBackoffMs ?? 30_000;
  let started = false;
  let k8s: K8s;
  let server = '';
  let synced = false;
  let stopped = false;
  let relists = 0;
  let lastError: KubeInventoryStatus['lastError'] = null;
  let resyncTimer: NodeJS.Timeout | undefined;
  let discoveryTimer: NodeJS.Timeout | undefined;
  let discoveryFailures = 0;
  let firstSync: { resolve(s: KubeSnapshot): void; reject(e: KubeError): void; settled: boolean } | undefined;

  const backoff = (failures: number) => {
    const base = Math.min(maxBackoff, minBackoff * 2 ** Math.max(0, failures - 1));
    return Math.round(base * (0.8 + Math.random() * 0.4));
  };

  function snapshot(): KubeSnapshot {
    const items = (resource: string) => watched.get(resource)?.informer.list() ?? [];
    const policies = ['networkpolicies', 'adminnetworkpolicies', 'baselineadminnetworkpolicies'].flatMap((r) => {
      const w = watched.get(r);
      return w ? items(r).map((o) => toRawPolicy(o, apiVersionOf(w.def), w.def.kind)) : [];
    });
    return {
      namespaces: items('namespaces').map(toNamespace).sort(byKey),
      pods: items('pods').map(toPod).filter((p) => !opts.onlyLocalPods || p.node === opts.nodeName).sort(byKey),
      policies,
      crds: { adminNetworkPolicies: watched.has('adminnetworkpolicies'), baselineAdminNetworkPolicies: watched.has('baselineadminnetworkpolicies') },
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

  function listFnFor(def: ResourceDef, k: KubeConfig): ListFn {
    const core = k.makeApiClient(k8s.CoreV1Api);
    const fieldSelector = opts.onlyLocalPods && opts.nodeName ? `spec.nodeName=${opts.nodeName}` : undefined;
    const raw: Record<string, ListFn> = {
      namespaces: () => core.listNamespace(),
      pods: () => core.listPodForAllNamespaces({ fieldSelector }),
      networkpolicies: () => k.makeApiClient(k8s.NetworkingV1Api).listNetworkPolicyForAllNamespaces(),
    };
    const fn = raw[def.resource] ?? (() => k.makeApiClient(k8s.CustomObjectsApi).listClusterCustomObject({ group: def.group, version: def.version, plural: def.resource }) as Promise<KubernetesListObject<Obj>>);
    let calls = 0;
    return () => {
      if (calls++ > 0) relists += 1;
      return fn();
    };
  }

  function watchPath(def: ResourceDef): string {
    const q = new URLSearchParams({ allowWatchBookmarks: 'true', timeoutSeconds: String(opts.watchTimeoutS ?? 300) });
    if (def.resource === 'pods' && opts.onlyLocalPods && opts.nodeName) q.set('fieldSelector', `spec.nodeName=${opts.nodeName}`);
    return `${collectionPath(def)}?${q}`;
  }

  async function runInformer(w: Watched): Promise<void> {
    if (stopped) return;
    w.starting = true;
    w.lastError = undefined;
    try {
      // Resolves once listed and the watch is connected, or after the informer reported an error and gave up.
      await w.informer.start();
    } finally {
      w.starting = false;
    }
    if (stopped) return;
    if (w.lastError) scheduleRestart(w);
    else {
      w.failures = 0;
      w.connected = true;
      w.listed = true;
      checkSynced();
    }
  }

  function scheduleRestart(w: Watched): void {
    if (stopped || w.retry) return;
    w.failures += 1;
    w.retry = setTimeout(() => {
      w.retry = undefined;
      void runInformer(w);
    }, backoff(w.failures));
  }

  function watch(def: ResourceDef, k: KubeConfig): void {
    const informer = k8s.makeInformer<Obj>(k, watchPath(def), listFnFor(def, k));
    const w: Watched = { def, informer, connected: false, listed: false, starting: false, failures: 0 };
    informer.on('add', () => changed('add'));
    informer.on('update', () => changed('update'));
    informer.on('delete', () => changed('delete'));
    informer.on('error', (err: unknown) => {
      w.connected = false;
      w.lastError = toKubeError(err, `${def.resource} list/watch`, server);
      fail(w.lastError);
      // During start() runInformer retries; afterwards (a watch that broke) the informer has stopped: restart it.
      if (!w.starting) scheduleRestart(w);
    });
    watched.set(def.resource, w);
    void runInformer(w);
  }

  async function discover(k: KubeConfig): Promise<void> {
    if (stopped) return;
    try {
      const crds = await discoverPolicyCrds(k8s, k);
      discoveryFailures = 0;
      for (const d of crds) if (!watched.has(d.resource) && !stopped) watch(d, k);
      if (!watched.has('namespaces')) for (const d of RESOURCES.filter((r) => !r.crd)) watch(d, k);
    } catch (err) {
      fail(toKubeError(err, 'API discovery', server));
      discoveryFailures += 1;
      if (!stopped) discoveryTimer = setTimeout(() => void discover(k), backoff(discoveryFailures));
    }
  }

  return {
    async start() {
      if (started) throw new KubeError('KUBE_CONFIG', 'start() was already called');
      started = true;
      k8s = await loadClient();
      const k = deps.kubeConfig ?? (await loadKubeConfig(opts));
      server = k.getCurrentCluster()?.server ?? '';
      const done = new Promise<KubeSnapshot>((resolve, reject) => { firstSync = { resolve, reject, settled: false }; });
      void discover(k);
      const every = opts.resyncMs ?? 300_000;
      if (every > 0) {
        resyncTimer = setInterval(() => {
          changed('resync');
          const hasAll = watched.has('adminnetworkpolicies') && watched.has('baselineadminnetworkpolicies');
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
      stopped = true;
      clearInterval(resyncTimer);
      clearTimeout(discoveryTimer);
      for (const w of watched.values()) {
        clearTimeout(w.retry);
        await w.informer.stop();
      }
    },
  };
}
