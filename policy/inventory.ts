// What the compiler and the evaluator know about the workloads: namespaces and pods.
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

export interface Inventory {
  namespaces: NamespaceInfo[];
  pods: PodInfo[];
}

/** `<namespace>/<name>` */
export function podKey(p: { namespace: string; name: string }): string {
  return `${p.namespace}/${p.name}`;
}
