// `explain` in words: which tier, policy and rule decided each side, what audit-mode policies would
// do, and the what-if view with audit lifted (the review step before enforcing).
import { describe, expect, it } from 'vitest';
import { explain, explainText } from './explain.ts';
import { enforceAudited } from './model.ts';
import { flow, load } from './testing/world.ts';

const world = load(`
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Namespace
metadata: {name: monitoring}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: shop, labels: {app: db}}
---
apiVersion: v1
kind: Pod
metadata: {name: prom, namespace: monitoring}
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: allow-monitoring}
spec:
  priority: 10
  subject: {namespaces: {}}
  ingress: [{name: scrape, action: Allow, from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: monitoring}}}], ports: [{portNumber: {protocol: TCP, port: 9100}}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: 5432}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: no-egress, namespace: shop, annotations: {weft.dev/mode: audit}}
spec:
  podSelector: {}
  policyTypes: [Egress]
`);

const text = (f: ReturnType<typeof flow>, policies = world.policies) => explainText(explain(policies, world.inventory, f));

describe('explain', () => {
  it('names the NetworkPolicy-tier rule, and the audit-mode policy that would deny the egress', () => {
    expect(text(flow('shop/web', 'shop/db', 'TCP', 5432))).toBe(
      [
        'shop/web -> shop/db TCP/5432: ALLOWED',
        '  egress of shop/web: allowed: NetworkPolicy shop/no-egress isolates it in audit mode only: default allow',
        '    audit: NetworkPolicy shop/no-egress isolation would deny (weft.dev/mode: audit, not enforced)',
        '  ingress of shop/db: allowed: by NetworkPolicy shop/db-from-web ingress[0] (NetworkPolicy tier)',
      ].join('\n'),
    );
  });

  it('names the admin tier when an ANP decides before the NetworkPolicy', () => {
    expect(text(flow('monitoring/prom', 'shop/db', 'TCP', 9100))).toContain(
      'ingress of shop/db: allowed: by ClusterNetworkPolicy allow-monitoring ingress[0] "scrape" (Admin tier)',
    );
  });

  it('says why an isolated pod denies, and stops at the side that denied', () => {
    expect(text(flow('monitoring/prom', 'shop/db', 'TCP', 5432))).toBe(
      [
        'monitoring/prom -> shop/db TCP/5432: DENIED',
        '  egress of monitoring/prom: allowed: no policy selects monitoring/prom for egress: default allow',
        '  ingress of shop/db: denied: shop/db is isolated for ingress by NetworkPolicy shop/db-from-web and no ingress rule of it matches',
      ].join('\n'),
    );
    const lifted = text(flow('shop/web', 'shop/db', 'TCP', 5432), enforceAudited(world.policies));
    expect(lifted).toBe(
      [
        'shop/web -> shop/db TCP/5432: DENIED',
        '  egress of shop/web: denied: shop/web is isolated for egress by NetworkPolicy shop/no-egress and no egress rule of it matches',
      ].join('\n'),
    );
  });

  it('between two external addresses no policy applies', () => {
    expect(text(flow('192.0.2.1', '198.51.100.2', 'UDP', 53))).toBe('192.0.2.1 -> 198.51.100.2 UDP/53: ALLOWED\n  neither end is a pod: no policy applies');
  });

  it('keeps the verdict the evaluator gives, side by side in data', () => {
    const x = explain(world.policies, world.inventory, flow('shop/web', 'shop/db', 'TCP', 5432));
    expect(x.sides.map((s) => [s.direction, s.pod, s.allowed, s.network])).toEqual([
      ['egress', 'shop/web', true, ['shop/no-egress']],
      ['ingress', 'shop/db', true, ['shop/db-from-web']],
    ]);
    expect(x.verdict.audit).toEqual([{ kind: 'NetworkPolicy', namespace: 'shop', name: 'no-egress', rule: 'isolation' }]);
  });
});
