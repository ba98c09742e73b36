// The FQDN tests' policy: pod shop/client may reach api.example.com and *.cdn.test on TCP 443 by
// name, its resolver on port 53, nothing else (an Admin Deny of 0.0.0.0/0 and ::/0 below the Accepts).
import { compile, loadPolicies, parseManifests, type Tables } from '../../policy/index.ts';

export function fqdnManifests(resolver: string): string {
  return `apiVersion: v1
kind: Namespace
metadata: { name: shop }
---
apiVersion: v1
kind: Pod
metadata: { name: client, namespace: shop, labels: { app: client } }
spec: { containers: [{ name: c, image: x }] }
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: { name: saas-by-name }
spec:
  tier: Admin
  priority: 10
  subject: { pods: { namespaceSelector: {}, podSelector: { matchLabels: { app: client } } } }
  egress:
  - { name: dns, action: Accept, to: [{ networks: [${resolver}/${resolver.includes(':') ? 128 : 32}] }], protocols: [{ udp: { destinationPort: { number: 53 } } }, { tcp: { destinationPort: { number: 53 } } }] }
  - { name: saas, action: Accept, to: [{ domainNames: [api.example.com, "*.cdn.test"] }], protocols: [{ tcp: { destinationPort: { number: 443 } } }] }
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: { name: deny-the-rest }
spec:
  tier: Admin
  priority: 20
  subject: { namespaces: {} }
  egress:
  - { name: rest, action: Deny, to: [{ networks: [0.0.0.0/0, "::/0"] }] }
`;
}

/** The compiled tables with the client pod at `clientIp`. */
export function fqdnTables(clientIp: string, resolver: string): Tables {
  const parsed = parseManifests([{ file: 'fqdn.yaml', text: fqdnManifests(resolver) }]);
  const loaded = loadPolicies(parsed.objects);
  const errors = [...parsed.errors, ...loaded.errors];
  if (errors.length) throw errors[0];
  const inventory = { ...loaded.inventory, pods: loaded.inventory.pods.map((p) => ({ ...p, ips: [clientIp] })) };
  return compile(loaded.policies, inventory);
}
