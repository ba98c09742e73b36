// The API resources the agent watches, as the API server describes them. The fake API server serves exactly
// these (and their discovery documents); the inventory source watches them.

export interface ResourceDef {
  /** Plural resource name in URLs. */
  resource: string;
  kind: string;
  /** '' for the core group. */
  group: string;
  version: string;
  namespaced: boolean;
  /** Served only when the cluster has the network-policy-api CRDs installed (each version on its own). */
  crd: boolean;
}

export const POLICY_API_GROUP = 'policy.networking.k8s.io';

export const RESOURCES: readonly ResourceDef[] = [
  { resource: 'namespaces', kind: 'Namespace', group: '', version: 'v1', namespaced: false, crd: false },
  { resource: 'pods', kind: 'Pod', group: '', version: 'v1', namespaced: true, crd: false },
  { resource: 'nodes', kind: 'Node', group: '', version: 'v1', namespaced: false, crd: false },
  { resource: 'networkpolicies', kind: 'NetworkPolicy', group: 'networking.k8s.io', version: 'v1', namespaced: true, crd: false },
  { resource: 'clusternetworkpolicies', kind: 'ClusterNetworkPolicy', group: POLICY_API_GROUP, version: 'v1alpha2', namespaced: false, crd: true },
  // v1alpha1, deprecated: read as the ClusterNetworkPolicy each translates to (policy/load-admin.ts).
  { resource: 'adminnetworkpolicies', kind: 'AdminNetworkPolicy', group: POLICY_API_GROUP, version: 'v1alpha1', namespaced: false, crd: true },
  { resource: 'baselineadminnetworkpolicies', kind: 'BaselineAdminNetworkPolicy', group: POLICY_API_GROUP, version: 'v1alpha1', namespaced: false, crd: true },
];

export function apiVersionOf(d: ResourceDef): string {
  return d.group ? `${d.group}/${d.version}` : d.version;
}

/** URL of the collection across all namespaces (or of a cluster-scoped resource). */
export function collectionPath(d: ResourceDef): string {
  return `${d.group ? `/apis/${d.group}` : '/api'}/${d.version}/${d.resource}`;
}

export function resourceByKind(kind: string): ResourceDef | undefined {
  return RESOURCES.find((r) => r.kind === kind);
}
