// A synthetic but plausible site for the policy benchmark: namespaces of ~20 pods, app and tier
// labels, NetworkPolicies per app (from same-namespace apps, from labelled namespaces, some ipBlocks,
// some named ports), a share of AdminNetworkPolicies from central ops (metrics from a shared-services
// namespace, egress guards to networks), and one baseline between prod and dev.
// Deterministic (a seeded PRNG), so runs compare.

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Workload {
  objects: unknown[];
  pods: string[];
}

export function workload(policies: number, pods: number, seed = 1): Workload {
  const rand = rng(seed * 7919 + policies * 31 + pods);
  const int = (n: number) => Math.floor(rand() * n);
  const nsCount = Math.max(1, Math.round(pods / 20));
  const appsPerNs = 8;
  const objects: unknown[] = [];
  const names: string[] = [];
  for (let n = 0; n < nsCount; n++) {
    objects.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns${n}`, labels: { team: `t${n % 10}`, env: n % 3 === 0 ? 'prod' : 'dev' } } });
  }
  for (let i = 0; i < pods; i++) {
    const ns = `ns${i % nsCount}`;
    const app = `app${int(appsPerNs)}`;
    const ports = [
      { name: 'http', containerPort: 8000 + (i % 5) },
      { name: 'metrics', containerPort: 9100 },
    ];
    objects.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `pod${i}`, namespace: ns, labels: { app, tier: i % 2 ? 'front' : 'back' } },
      spec: { containers: [{ name: 'c', ports }] },
    });
    names.push(`${ns}/pod${i}`);
  }
  const anps = Math.round(policies * 0.1);
  for (let i = 0; i < policies - anps - 1; i++) {
    const ns = `ns${int(nsCount)}`;
    const kind = int(10);
    const from =
      kind < 5
        ? [{ podSelector: { matchLabels: { app: `app${int(appsPerNs)}` } } }]
        : kind < 8
          ? [{ namespaceSelector: { matchLabels: { team: `t${int(10)}` } }, podSelector: { matchLabels: { tier: 'front' } } }]
          : [{ ipBlock: { cidr: `10.${int(256)}.0.0/16` } }];
    const port = int(4) === 0 ? { port: 'http' } : int(3) === 0 ? { port: 8000 + int(100), endPort: 8200 + int(100) } : { port: 8000 + int(5) };
    objects.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: `np${i}`, namespace: ns },
      spec: {
        podSelector: { matchLabels: { app: `app${int(appsPerNs)}` } },
        ingress: [{ from, ports: [port] }],
        ...(int(5) === 0 ? { egress: [{ ports: [{ protocol: 'UDP', port: 53 }] }] } : {}),
      },
    });
  }
  for (let i = 0; i < anps; i++) {
    objects.push({
      apiVersion: 'policy.networking.k8s.io/v1alpha2',
      kind: 'ClusterNetworkPolicy',
      metadata: { name: `anp${i}` },
      spec: {
        tier: 'Admin',
        priority: i % 1000,
        subject: { namespaces: { matchLabels: { team: `t${int(10)}` } } },
        // central ops: metrics scraping from one of the shared-services namespaces, and egress guards
        ingress: [
          {
            action: ['Accept', 'Deny', 'Pass'][int(3)],
            from: [{ namespaces: { matchLabels: { 'kubernetes.io/metadata.name': `ns${int(Math.min(5, nsCount))}` } } }],
            protocols: [{ tcp: { destinationPort: { number: 9100 } } }],
          },
        ],
        egress: [{ action: 'Deny', to: [{ networks: [`172.${16 + int(16)}.0.0/16`] }] }],
      },
    });
  }
  objects.push({
    apiVersion: 'policy.networking.k8s.io/v1alpha2',
    kind: 'ClusterNetworkPolicy',
    metadata: { name: 'default' },
    spec: {
      tier: 'Baseline',
      priority: 0,
      subject: { namespaces: { matchLabels: { env: 'prod' } } },
      ingress: [{ action: 'Deny', from: [{ namespaces: { matchLabels: { env: 'dev' } } }] }],
    },
  });
  return { objects, pods: names };
}
