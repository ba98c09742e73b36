// Parsed manifest objects -> validated PolicySet + Inventory, collecting every error.
import { compareCodeUnits } from '../base/pure.ts';
import { PolicyError } from './errors.ts';
import type { Inventory, NamespaceInfo, NodeInfo, PodInfo } from './inventory.ts';
import { loadAdminPolicy, type AdminKind } from './load-admin.ts';
import { loadClusterNetworkPolicy, warnInto } from './load-cnp.ts';
import { readMeta } from './load-common.ts';
import { loadNode, loadPod, loadWorkload, WORKLOAD_KINDS, type WorkloadKind } from './load-inventory.ts';
import { loadNetworkPolicy } from './load-netpol.ts';
import type { Policy, PolicySet } from './model.ts';
import { isManifestObject } from './parse.ts';
import { isObj, Reader } from './reader.ts';

const API_VERSIONS: Record<string, string> = {
  NetworkPolicy: 'networking.k8s.io/v1',
  ClusterNetworkPolicy: 'policy.networking.k8s.io/v1alpha2',
  AdminNetworkPolicy: 'policy.networking.k8s.io/v1alpha1',
  BaselineAdminNetworkPolicy: 'policy.networking.k8s.io/v1alpha1',
};
const POLICY_KINDS = Object.keys(API_VERSIONS);
const KNOWN_KINDS = ['Namespace', 'Pod', 'Node', ...WORKLOAD_KINDS, ...POLICY_KINDS];
/**
 * Built-in Kubernetes kinds that say nothing about who may talk to whom. An app's manifest folder
 * holds them beside its policies, so they are read past with a warning rather than failing the
 * check; any other kind (a typo, another CNI's policy CRD) is an error, since it would be ignored.
 */
const IGNORED_KINDS = [
  'Service',
  'Endpoints',
  'EndpointSlice',
  'Ingress',
  'IngressClass',
  'ConfigMap',
  'Secret',
  'ServiceAccount',
  'PersistentVolume',
  'PersistentVolumeClaim',
  'StorageClass',
  'Role',
  'RoleBinding',
  'ClusterRole',
  'ClusterRoleBinding',
  'HorizontalPodAutoscaler',
  'PodDisruptionBudget',
  'LimitRange',
  'ResourceQuota',
  'PriorityClass',
  'PodTemplate',
  'CustomResourceDefinition',
  'Event',
  'Lease',
  'RuntimeClass',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
];
/** Kubernetes gives every namespace this label; policies select namespaces by name through it. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export interface Loaded {
  policies: PolicySet;
  inventory: Inventory;
  errors: PolicyError[];
  /** Objects read past (POLICY_IGNORED_KIND): reported, but the manifests are still valid. */
  warnings: PolicyError[];
}

/**
 * objects: ManifestObjects from parseManifests (errors name their file and document) or plain
 * Kubernetes objects (e.g. a bundle's policies; errors name `where.file` and the object's index).
 */
export function loadPolicies(objects: readonly unknown[], where: { file?: string } = {}): Loaded {
  const errors: PolicyError[] = [];
  const warnings: PolicyError[] = [];
  const admin: Policy[] = [];
  const network: Policy[] = [];
  const baselines: Policy[] = [];
  const namespaces = new Map<string, NamespaceInfo>();
  const pods = new Map<string, PodInfo>();
  const nodes = new Map<string, NodeInfo>();
  const seenPolicies = new Set<string>();

  objects.forEach((entry, i) => {
    const m = isManifestObject(entry) ? entry : { file: where.file ?? '<input>', doc: i + 1, path: '', object: entry };
    const r = new Reader(m.file, m.doc, errors);
    const obj = m.object;
    const path = m.path;
    if (!isObj(obj)) {
      r.fail('POLICY_NOT_OBJECT', path, 'a manifest must be an object with apiVersion and kind', 'each item is one Kubernetes object');
      return;
    }
    const kind = r.string(obj, 'kind', path, true);
    if (kind === null) return;
    if (IGNORED_KINDS.includes(kind)) {
      warnings.push(
        new PolicyError(
          'POLICY_IGNORED_KIND',
          { file: m.file, doc: m.doc, path: `${path ? `${path}.` : ''}kind` },
          `${kind} ignored: it has no effect on network policy`,
          `only ${KNOWN_KINDS.join(', ')} are read`,
        ),
      );
      return;
    }
    if (!KNOWN_KINDS.includes(kind)) {
      r.fail(
        'POLICY_UNKNOWN_KIND',
        `${path ? `${path}.` : ''}kind`,
        `unknown kind "${kind}"`,
        `supported kinds: ${KNOWN_KINDS.join(', ')}; another CNI's policy kinds are not enforced by Weft`,
      );
      return;
    }
    const apiVersion = r.string(obj, 'apiVersion', path, kind in API_VERSIONS);
    if (apiVersion !== null && kind in API_VERSIONS && apiVersion !== API_VERSIONS[kind]) {
      r.fail(
        'POLICY_UNKNOWN_API_VERSION',
        `${path ? `${path}.` : ''}apiVersion`,
        `${kind} with apiVersion "${apiVersion}"`,
        `use apiVersion: ${API_VERSIONS[kind]}`,
      );
      return;
    }
    const meta = readMeta(r, obj, path);
    if (!meta) return;
    const at = (suffix: string) => `${path ? `${path}.` : ''}${suffix}`;
    const unique = (key: string, what: string): boolean => {
      if (!seenPolicies.has(key)) {
        seenPolicies.add(key);
        return true;
      }
      r.fail('POLICY_DUPLICATE', at('metadata.name'), `${what} is defined twice`, 'names are unique per kind (and namespace)');
      return false;
    };
    if (kind === 'Namespace') {
      if (unique(`Namespace\0${meta.name}`, `namespace ${meta.name}`))
        namespaces.set(meta.name, { name: meta.name, labels: { ...meta.labels, [NAMESPACE_NAME_LABEL]: meta.name } });
    } else if (kind === 'Pod' || (WORKLOAD_KINDS as readonly string[]).includes(kind)) {
      const pod = kind === 'Pod' ? loadPod(r, obj, path, meta) : loadWorkload(r, obj, path, meta, kind as WorkloadKind);
      if (unique(`pod\0${meta.namespace}/${meta.name}`, `pod or workload ${meta.namespace}/${meta.name}`)) pods.set(`${meta.namespace}/${meta.name}`, pod);
    } else if (kind === 'Node') {
      const node = loadNode(r, obj, path, meta);
      if (unique(`Node\0${meta.name}`, `node ${meta.name}`)) nodes.set(meta.name, node);
    } else if (kind === 'NetworkPolicy') {
      const p = loadNetworkPolicy(r, obj, path, meta);
      if (p && unique(`${kind}\0${meta.namespace}/${meta.name}`, `NetworkPolicy ${meta.namespace}/${meta.name}`)) network.push(p);
    } else {
      const p =
        kind === 'ClusterNetworkPolicy'
          ? loadClusterNetworkPolicy(r, obj, path, meta, warnInto(r, warnings))
          : loadAdminPolicy(r, obj, path, meta, kind as AdminKind);
      if (kind !== 'ClusterNetworkPolicy')
        warnings.push(
          new PolicyError(
            'POLICY_DEPRECATED_KIND',
            { file: m.file, doc: m.doc, path: at('kind') },
            `${kind} (v1alpha1) is deprecated: read as ClusterNetworkPolicy ${meta.name} (tier ${kind === 'AdminNetworkPolicy' ? 'Admin' : 'Baseline'})`,
            'weft policy convert <files> writes the ClusterNetworkPolicy (policy.networking.k8s.io/v1alpha2)',
          ),
        );
      // One name space for ClusterNetworkPolicies, translated or not: attribution names them by name.
      if (p && unique(`ClusterNetworkPolicy\0${meta.name}`, `ClusterNetworkPolicy ${meta.name}${kind === 'ClusterNetworkPolicy' ? '' : ` (from ${kind})`}`))
        (p.tier === 'Admin' ? admin : baselines).push(p);
    }
  });

  // A namespace that pods or policies use but no manifest declares exists with only its name label.
  const used = [...[...pods.values()].map((p) => p.namespace), ...network.map((p) => p.namespace as string)];
  for (const ns of used) if (!namespaces.has(ns)) namespaces.set(ns, { name: ns, labels: { [NAMESPACE_NAME_LABEL]: ns } });

  return {
    policies: makePolicySet(admin, network, baselines),
    inventory: {
      namespaces: [...namespaces.values()].sort((a, b) => compareCodeUnits(a.name, b.name)),
      pods: [...pods.values()].sort((a, b) => compareCodeUnits(a.namespace, b.namespace) || compareCodeUnits(a.name, b.name)),
      ...(nodes.size > 0 && { nodes: [...nodes.values()].sort((a, b) => compareCodeUnits(a.name, b.name)) }),
    },
    errors,
    warnings,
  };
}

/** Within a tier: by priority, then name (upstream leaves equal priorities to the implementation). */
const byPriority = (a: Policy, b: Policy) => a.priority - b.priority || compareCodeUnits(a.name, b.name);

/** The canonical order the tiers are met in. */
export function makePolicySet(admin: Policy[], network: Policy[], baseline: Policy[]): PolicySet {
  return {
    admin: [...admin].sort(byPriority),
    network: [...network].sort((a, b) => compareCodeUnits(a.namespace ?? '', b.namespace ?? '') || compareCodeUnits(a.name, b.name)),
    baseline: [...baseline].sort(byPriority),
  };
}
