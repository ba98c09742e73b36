// Shared by crash-apply.kernel.test.ts and its child (crash-agent.ts): an inventory of a few hundred pods
// and, for every generation, a bundle whose compiled tables differ from every other generation's
// (the allowed ports move with the generation), so a kernel slot can be matched to one generation.
import type { KeyObject } from 'node:crypto';
import { compile, loadPolicies, type Tables } from '../../policy/index.ts';
import type { KubeSnapshot } from '../kube/types.ts';
import { bundle, kubePod } from './fixtures.ts';

const APPS = ['web', 'db', 'cache', 'queue', 'api'];

export function crashInventory(pods = 250): KubeSnapshot {
  return {
    namespaces: [{ name: 'shop', labels: { 'kubernetes.io/metadata.name': 'shop' } }],
    pods: Array.from({ length: pods }, (_, i) => kubePod('shop', `p${i}`, APPS[i % APPS.length], `10.42.${Math.floor(i / 250)}.${(i % 250) + 1}`)),
    policies: [],
    nodes: [],
    crds: { clusterNetworkPolicies: false, adminNetworkPolicies: false, baselineAdminNetworkPolicies: false },
  };
}

export function crashPolicies(generation: number): unknown[] {
  return APPS.flatMap((app, a) =>
    Array.from({ length: 8 }, (_, k) => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { namespace: 'shop', name: `${app}-${k}` },
      spec: {
        podSelector: { matchLabels: { app } },
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [{ podSelector: { matchLabels: { app: APPS[(a + k + 1) % APPS.length] } } }],
            ports: [{ protocol: 'TCP', port: 1000 + ((generation * 37 + a * 8 + k) % 60000) }],
          },
          // A CIDR peer and a port range: every kind of table entry moves with the generation.
          {
            from: [{ ipBlock: { cidr: `192.168.${generation % 250}.0/24` } }],
            ports: [{ protocol: 'UDP', port: 2000 + k, endPort: 2100 + (generation % 50) }],
          },
        ],
      },
    })),
  );
}

export const crashBundle = (key: KeyObject, generation: number): Buffer => bundle(key, generation, { policies: crashPolicies(generation) });

/** What the enforcer compiles for a generation (no site policies): the tables the kernel must hold. */
export function crashTables(generation: number, inventory: KubeSnapshot): Tables {
  const loaded = loadPolicies(crashPolicies(generation), { file: `generation ${generation}` });
  return compile(loaded.policies, { namespaces: inventory.namespaces, pods: inventory.pods });
}
