// From manifests to packets: policy.compile's tables, loaded into the kernel, must allow and deny
// real connections exactly as the reference evaluator (policy.evaluate) says, and so must the
// in-memory datapath.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile, evaluate, loadPolicies, parseManifests, type Inventory, type PolicySet, type Tables } from '../policy/index.ts';
import type { LibbpfDatapath } from './libbpf-datapath.ts';
import { MemoryDatapath } from './testing/memory-datapath.ts';
import { kernelSkipReason, openTestDatapath } from './testing/kernel.ts';
import { Topology } from './testing/netns.ts';

const MANIFESTS = `
apiVersion: v1
kind: Namespace
metadata: { name: shop }
---
apiVersion: v1
kind: Pod
metadata: { name: web, namespace: shop, labels: { app: web } }
spec: { containers: [{ name: c, image: x, ports: [{ containerPort: 8080 }] }] }
---
apiVersion: v1
kind: Pod
metadata: { name: db, namespace: shop, labels: { app: db } }
spec: { containers: [{ name: c, image: x, ports: [{ containerPort: 5432 }] }] }
---
apiVersion: v1
kind: Pod
metadata: { name: api, namespace: shop, labels: { app: api } }
spec: { containers: [{ name: c, image: x }] }
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: db-from-web, namespace: shop }
spec:
  podSelector: { matchLabels: { app: db } }
  ingress: [{ from: [{ podSelector: { matchLabels: { app: web } } }], ports: [{ protocol: TCP, port: 5432 }] }]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: api-to-db-only, namespace: shop }
spec:
  podSelector: { matchLabels: { app: api } }
  policyTypes: [Egress]
  egress: [{ to: [{ podSelector: { matchLabels: { app: db } } }], ports: [{ protocol: TCP, port: 5432 }] }]
`;

const FLOWS: [src: string, dst: string, port: number][] = [
  ['web', 'db', 5432],
  ['web', 'db', 5433],
  ['api', 'db', 5432],
  ['api', 'web', 8080],
  ['web', 'api', 8080],
  ['db', 'web', 8080],
];

describe.skipIf(kernelSkipReason)('compiled policy enforced in the kernel', () => {
  let topo: Topology;
  let dp: LibbpfDatapath;
  let cleanup: (() => Promise<void>) | undefined;
  let policies: PolicySet;
  let inventory: Inventory;
  let tables: Tables;

  beforeAll(async () => {
    topo = Topology.create(['web', 'db', 'api'], 85);
    const parsed = parseManifests([{ file: 'shop.yaml', text: MANIFESTS }]);
    expect(parsed.errors).toEqual([]);
    const loaded = loadPolicies(parsed.objects);
    expect(loaded.errors).toEqual([]);
    policies = loaded.policies;
    inventory = { ...loaded.inventory, pods: loaded.inventory.pods.map((p) => ({ ...p, ips: [topo.pod(p.name).ip] })) };
    tables = compile(policies, inventory);
    ({ dp, cleanup } = await openTestDatapath({ netns: topo.nodeNetnsPath }));
    await dp.apply(tables, 1);
    for (const p of topo.pods) await dp.attach({ pod: `shop/${p.name}`, ifindex: p.ifindex, ips: [p.ip] });
    for (const p of topo.pods) for (const port of [5432, 5433, 8080]) expect((await topo.probe(p.name).listen('tcp', port)).ok).toBe(true);
  });

  afterAll(async () => {
    await cleanup?.();
    topo?.destroy();
  });

  it.each(FLOWS)('%s -> %s:%i agrees with policy.evaluate', async (src, dst, port) => {
    const want = evaluate(policies, inventory, { src: `shop/${src}`, dst: `shop/${dst}`, protocol: 'TCP', port }).allowed;
    const got = await topo.probe(src).tcp(topo.pod(dst).ip, port, want ? 3000 : 600);
    expect(got.ok).toBe(want);

    const mem = new MemoryDatapath();
    await mem.apply(tables, 1);
    for (const p of topo.pods) await mem.attach({ pod: `shop/${p.name}`, ifindex: p.ifindex, ips: [p.ip] });
    const tuple = { proto: 6, src: topo.pod(src).ip, dst: topo.pod(dst).ip, sport: 40000, dport: port };
    const both = mem.judge(`shop/${src}`, 'egress', tuple).pass && mem.judge(`shop/${dst}`, 'ingress', tuple).pass;
    expect(both).toBe(want);
  });
});
