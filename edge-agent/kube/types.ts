// The agent's view of the local k3s API: what the enforcer needs to compile policy.
import { WeftError } from '../../base/index.ts';
import type { NamespaceInfo, NodeInfo, PodInfo } from '../../policy/index.ts';

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

/** A PodInfo (policy/inventory.ts) plus what the enforcer needs to attach: phase, and always ips/node. */
export interface KubePod extends PodInfo {
  ips: string[];
  node?: string;
  phase: PodPhase;
}

/** Assignable to policy's Inventory ({ namespaces, pods, nodes }). */
export interface KubeSnapshot {
  namespaces: NamespaceInfo[];
  pods: KubePod[];
  /** Every Node with its labels and status.addresses: what ClusterNetworkPolicy `nodes` peers match. */
  nodes: NodeInfo[];
  /** Raw NetworkPolicy, ClusterNetworkPolicy and (deprecated) AdminNetworkPolicy / BaselineAdminNetworkPolicy objects (apiVersion/kind set). */
  policies: unknown[];
  /** Whether the cluster serves the network-policy-api CRDs (policy.networking.k8s.io v1alpha2, and v1alpha1). */
  crds: { clusterNetworkPolicies: boolean; adminNetworkPolicies: boolean; baselineAdminNetworkPolicies: boolean };
}

export type KubeErrorCode = 'KUBE_CLIENT' | 'KUBE_CONFIG' | 'KUBE_AUTH' | 'KUBE_FORBIDDEN' | 'KUBE_UNREACHABLE' | 'KUBE_API';

export class KubeError extends WeftError<KubeErrorCode> {
  override readonly name = 'KubeError';
}

export interface KubeInventoryOptions {
  /** Path of a kubeconfig (k3s: /etc/rancher/k3s/k3s.yaml). Absent: in-cluster service account. */
  kubeconfig?: string;
  /** This node's name: pods carry `node`, and with onlyLocalPods the API is asked for this node's pods only. */
  nodeName?: string;
  /**
   * Watch only pods on nodeName (fieldSelector spec.nodeName). Off by default: policy peers (and ANP denies)
   * select pods on other nodes too, so a node-only view would miss their IPs.
   */
  onlyLocalPods?: boolean;
  /** Re-emit the cached snapshot every resyncMs (default 300 000) so consumers reconcile drift. 0 = off. */
  resyncMs?: number;
  /** Backoff after a failed list/watch: starts at minBackoffMs (250), doubles to maxBackoffMs (30 000). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Server-side watch timeout asked for (timeoutSeconds, default 300). */
  watchTimeoutS?: number;
}

export type ChangeReason = 'sync' | 'add' | 'update' | 'delete' | 'resync';

export interface KubeInventoryEvents {
  /** Every change, not debounced: the consumer (enforcer) debounces. */
  change: (snapshot: KubeSnapshot, reason: ChangeReason) => void;
  /** A list/watch failed; the source retries by itself with backoff. */
  error: (err: KubeError) => void;
}

export interface KubeInventoryStatus {
  synced: boolean;
  /** Watches currently connected, by resource. */
  connected: Record<string, boolean>;
  lastError: { code: KubeErrorCode; message: string; at: number } | null;
  relists: number;
}

export interface KubeInventory {
  /** Lists everything and starts watching; resolves with the first full snapshot. Rejects with KubeError
   *  (KUBE_AUTH, KUBE_UNREACHABLE, ...) when the first list fails, then keeps retrying in the background
   *  until stop(). */
  start(): Promise<KubeSnapshot>;
  snapshot(): KubeSnapshot;
  status(): KubeInventoryStatus;
  on<E extends keyof KubeInventoryEvents>(event: E, fn: KubeInventoryEvents[E]): void;
  off<E extends keyof KubeInventoryEvents>(event: E, fn: KubeInventoryEvents[E]): void;
  stop(): Promise<void>;
}
