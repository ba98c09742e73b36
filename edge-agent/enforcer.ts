// The enforcer: bundle policies (admin, app, baseline tiers from the hub) plus the site's own policies
// from k3s, compiled against the k3s inventory with the policy core, applied with the datapath in one
// atomic switch. Inventory changes are debounced; every apply goes through one queue so two never race.
// It also keeps each local pod's host-side veth attached, and detaches pods that went away.
import type { Datapath, Endpoint } from '../datapath/index.ts';
import {
  type BundlePayload,
  loadPolicies,
  meshInventory,
  type MeshPeer,
  makePolicySet,
  type Inventory,
  type Policy,
  type PolicySet,
  type Attribution,
  type MapLimits,
  type Tables,
} from '../policy/index.ts';
import { errorMessage, formatError, WeftError } from '../base/index.ts';
import type { KubePod, KubeSnapshot } from './kube/types.ts';
import type { Logger } from './logger.ts';
import type { AgentMetrics } from './metrics.ts';
import type { HostIface, VethResolver } from './veth.ts';

export type CompileFn = (policies: PolicySet, inventory: Inventory, opts: { limits?: MapLimits }) => Tables;

/** A bundle that cannot be enforced: the code goes into the rejection ack (POLICY_*, DATAPATH_*). */
export class EnforceError extends WeftError {
  override readonly name = 'EnforceError';
}

export interface EnforcerOptions {
  datapath: Datapath;
  compile: CompileFn;
  resolveVeth: VethResolver;
  log: Logger;
  metrics?: AgentMetrics;
  /** Only pods on this node are attached. Pods without a node (tests, manifests) count as local. */
  nodeName?: string;
  debounceMs?: number;
  limits?: MapLimits;
  /** Called after each successful apply, e.g. to persist the inventory for an offline restart. */
  onApplied?: (a: AppliedInfo) => void;
  /** Called when an inventory-triggered recompile fails (the previous tables stay live). */
  onError?: (e: EnforceError) => void;
}

export interface AppliedInfo {
  generation: number;
  tables: Tables;
  snapshot: KubeSnapshot;
  latencyS: number;
  reason: 'bundle' | 'inventory' | 'start';
}

export interface Prepared {
  payload: BundlePayload;
  bundlePolicies: PolicySet;
  tables: Tables;
}

export const EMPTY_SNAPSHOT: KubeSnapshot = {
  namespaces: [],
  pods: [],
  policies: [],
  nodes: [],
  crds: { clusterNetworkPolicies: false, adminNetworkPolicies: false, baselineAdminNetworkPolicies: false },
};

const policyKey = (p: Policy) => `${p.kind}/${p.namespace ?? ''}/${p.name}`;

/** Errors of a DatapathError/CapacityError/PolicyError carry a code; anything else is a datapath failure. */
function codeOf(e: unknown, fallback: string): string {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === 'string' && /^[A-Z_]+$/.test(c) ? c : fallback;
}

export class Enforcer {
  private current: Prepared | null = null;
  private snapshot: KubeSnapshot = EMPTY_SNAPSHOT;
  /** Linked sites' pods (site links): compiled as peers labelled with their site, never attached. */
  private remote: { siteId: string; peers: readonly MeshPeer[] } | null = null;
  private generation = 0;
  private attachedEps = new Map<string, Endpoint>();
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  lastAppliedAt: number | null = null;

  constructor(private readonly o: EnforcerOptions) {}

  get appliedGeneration(): number {
    return this.generation;
  }

  get attached(): Endpoint[] {
    return [...this.attachedEps.values()];
  }

  get tables(): Tables | null {
    return this.current?.tables ?? null;
  }

  attributions(): Attribution[] {
    return this.current?.tables.attributions ?? [];
  }

  get inventory(): KubeSnapshot {
    return this.snapshot;
  }

  /** Validates and compiles a bundle against the current inventory; throws EnforceError. Applies nothing. */
  prepare(payload: BundlePayload, snapshot: KubeSnapshot = this.snapshot): Prepared {
    const loaded = loadPolicies(payload.policies, { file: `bundle generation ${payload.generation}` });
    if (loaded.errors.length > 0) {
      const first = loaded.errors[0];
      throw new EnforceError(first.code, loaded.errors.slice(0, 5).map(formatError).join('; '));
    }
    return { payload, bundlePolicies: loaded.policies, tables: this.compile(loaded.policies, snapshot) };
  }

  /** Applies a prepared bundle now (queued behind any running apply). */
  applyBundle(p: Prepared, reason: AppliedInfo['reason'] = 'bundle'): Promise<void> {
    return this.enqueue(async () => {
      await this.applyTables(p, p.payload.generation, reason);
    });
  }

  /**
   * The kernel already holds this bundle's generation (pinned maps survived a restart): keep it and only
   * recompile when the inventory changes. The compiled tables are kept for attributions.
   */
  adopt(p: Prepared): Promise<void> {
    return this.enqueue(async () => {
      this.current = p;
      this.generation = p.payload.generation;
      this.o.metrics?.appliedGeneration.set(this.generation);
      await this.syncAttachments();
    });
  }

  /** The kernel holds a generation whose bundle the store lost: report it, recompile nothing. */
  adoptPinned(generation: number): void {
    this.generation = generation;
    this.o.metrics?.appliedGeneration.set(generation);
  }

  /** Inventory known before start (persisted from the last run): no recompile is scheduled. */
  seedInventory(snapshot: KubeSnapshot): void {
    this.snapshot = snapshot;
  }

  /** Linked sites changed: recompile so policies can select their pods (weft.dev/site and their labels). */
  setRemote(siteId: string, peers: readonly MeshPeer[]): void {
    this.remote = peers.length ? { siteId, peers } : null;
    this.setInventory(this.snapshot);
  }

  /** New inventory from k3s: recompile and apply after the debounce, if a bundle is in force. */
  setInventory(snapshot: KubeSnapshot): void {
    this.snapshot = snapshot;
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.enqueue(() => this.reapply()).catch((e: unknown) => {
        const err = e instanceof EnforceError ? e : new EnforceError(codeOf(e, 'DATAPATH_APPLY'), errorMessage(e));
        this.o.log.error({ code: err.code, err: err.message }, 'recompile after inventory change failed; previous tables stay live');
        this.o.onError?.(err);
      });
    }, this.o.debounceMs ?? 100);
  }

  /** Resolves when every queued or debounced apply is done (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.timer) await new Promise((r) => setTimeout(r, 10));
    await this.queue.catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.queue.catch(() => undefined);
  }

  private async reapply(): Promise<void> {
    if (!this.current) {
      await this.syncAttachments();
      return;
    }
    const tables = this.compile(this.current.bundlePolicies, this.snapshot);
    await this.applyTables({ ...this.current, tables }, this.generation, 'inventory');
  }

  private compile(bundle: PolicySet, snapshot: KubeSnapshot): Tables {
    const policies = this.merge(bundle, snapshot);
    try {
      const local = { namespaces: snapshot.namespaces, pods: snapshot.pods, nodes: snapshot.nodes };
      const inventory = this.remote ? meshInventory(this.remote.siteId, local, this.remote.peers) : local;
      return this.o.compile(policies, inventory, { limits: this.o.limits });
    } catch (e) {
      throw new EnforceError(codeOf(e, 'POLICY_COMPILE'), errorMessage(e));
    }
  }

  /** The hub's bundle wins over a same-named site policy; invalid site policies are skipped and logged. */
  private merge(bundle: PolicySet, snapshot: KubeSnapshot): PolicySet {
    if (snapshot.policies.length === 0) return bundle;
    const site = loadPolicies(snapshot.policies, { file: 'k3s' });
    for (const e of site.errors) this.o.log.warn({ code: e.code }, `site policy skipped: ${formatError(e)}`);
    const taken = new Set([...bundle.admin, ...bundle.network, ...bundle.baseline].map(policyKey));
    const fresh = (ps: Policy[]) => ps.filter((p) => !taken.has(policyKey(p)));
    return makePolicySet(
      [...bundle.admin, ...fresh(site.policies.admin)],
      [...bundle.network, ...fresh(site.policies.network)],
      [...bundle.baseline, ...fresh(site.policies.baseline)],
    );
  }

  private async applyTables(p: Prepared, generation: number, reason: AppliedInfo['reason']): Promise<void> {
    const t0 = process.hrtime.bigint();
    try {
      await this.o.datapath.apply(p.tables, generation);
    } catch (e) {
      throw new EnforceError(codeOf(e, 'DATAPATH_APPLY'), errorMessage(e));
    }
    const latencyS = Number(process.hrtime.bigint() - t0) / 1e9;
    this.current = p;
    this.generation = generation;
    this.lastAppliedAt = Date.now();
    this.o.metrics?.applyLatency.observe(latencyS);
    this.o.metrics?.appliedGeneration.set(generation);
    await this.syncAttachments();
    this.o.log.info(
      { generation, reason, latencyMs: Math.round(latencyS * 1e4) / 10, endpoints: p.tables.sizes.endpoints, rules: p.tables.sizes.rules },
      'tables applied',
    );
    this.o.onApplied?.({ generation, tables: p.tables, snapshot: this.snapshot, latencyS, reason });
  }

  private isLocal(pod: KubePod): boolean {
    if (pod.phase === 'Succeeded' || pod.phase === 'Failed' || pod.ips.length === 0) return false;
    return !pod.node || !this.o.nodeName || pod.node === this.o.nodeName;
  }

  /** Attach every local pod's veth that is not attached yet; detach pods that are gone or moved. */
  private async syncAttachments(): Promise<void> {
    const want = new Map<string, Endpoint>();
    const unknown: KubePod[] = [];
    for (const pod of this.snapshot.pods) {
      if (!this.isLocal(pod)) continue;
      const key = `${pod.namespace}/${pod.name}`;
      const known = this.attachedEps.get(key);
      if (known && known.ips.join() === pod.ips.join()) want.set(key, known);
      else unknown.push(pod);
    }
    // One lookup for all new pods: the resolver dumps routes and namespaces once, not once per pod.
    const found = unknown.length ? await this.o.resolveVeth(unknown.map((p) => p.ips[0])) : new Map<string, HostIface>();
    for (const pod of unknown) {
      const iface = found.get(pod.ips[0]);
      const key = `${pod.namespace}/${pod.name}`;
      if (iface) want.set(key, { pod: key, ifindex: iface.ifindex, ifname: iface.ifname, ips: pod.ips });
    }
    for (const [key, ep] of this.attachedEps) {
      const next = want.get(key);
      if (next && next.ifindex === ep.ifindex) continue;
      try {
        await this.o.datapath.detach(ep);
      } catch (e) {
        // The veth usually vanished with the pod, taking its tc hook along.
        this.o.log.debug({ pod: key, err: errorMessage(e) }, 'detach failed');
      }
      this.attachedEps.delete(key);
    }
    for (const [key, ep] of want) {
      if (this.attachedEps.has(key)) continue;
      try {
        await this.o.datapath.attach(ep);
        this.attachedEps.set(key, ep);
      } catch (e) {
        this.o.log.warn(
          { pod: key, ifname: ep.ifname, code: codeOf(e, 'DATAPATH_ATTACH'), err: errorMessage(e) },
          'attach failed; retried on the next inventory change',
        );
      }
    }
    this.o.metrics?.podsAttached.set(this.attachedEps.size);
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(() => fn());
    this.queue = next.catch(() => undefined);
    return next;
  }
}
