// What the compiler and the evaluator know about the workloads: namespaces, pods, and the nodes
// (for ClusterNetworkPolicy `nodes` peers).
// On a site it comes from the k3s API; in `weft policy` it comes from manifests.

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol: Protocol;
}

export interface NamespaceInfo {
  name: string;
  labels: Record<string, string>;
}

export interface PodInfo {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  ports: ContainerPort[];
  /** Pod IPs (IPv4 and/or IPv6). Absent in manifests; present on a site. */
  ips?: string[];
  /** The node it runs on; the agent attaches only to its own node's pods. */
  node?: string;
}

/** A Node: its labels and the IP addresses of status.addresses (what a `nodes` peer matches). */
export interface NodeInfo {
  name: string;
  labels: Record<string, string>;
  addresses: string[];
}

export interface Inventory {
  namespaces: NamespaceInfo[];
  pods: PodInfo[];
  /** Absent: no node is known, and a `nodes` peer matches nothing. */
  nodes?: NodeInfo[];
}

/** `<namespace>/<name>` */
export function podKey(p: { namespace: string; name: string }): string {
  return `${p.namespace}/${p.name}`;
}
