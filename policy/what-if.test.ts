import { describe, expect, it } from 'vitest';
import { loadPolicies } from './load.ts';
import { parseManifests } from './parse.ts';
import { type Policies, type RecordedFlow, whatIf, withEndpoints } from './what-if.ts';

const INVENTORY = `apiVersion: v1
kind: Pod
metadata: {name: db, namespace: shop, labels: {app: db}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
`;
const DB_FROM_WEB = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from: [{ipBlock: {cidr: 10.1.0.0/16}}]
    ports: [{port: 5432, protocol: TCP}]
`;

function load(text: string): Policies {
  const l = loadPolicies(parseManifests([{ file: 'p.yaml', text }]).objects);
  expect(l.errors).toEqual([]);
  return { policies: l.policies, inventory: withEndpoints(l.inventory, ['shop/db', 'ops/mon']) };
}

const flow = (endpoint: string, direction: 'ingress' | 'egress', peer: string, port: number): RecordedFlow => ({
  siteId: 'store-a',
  endpoint,
  direction,
  peer,
  protocol: 'TCP',
  port,
  count: 3,
});

describe('whatIf', () => {
  const today = load(INVENTORY);
  const next = load(`${INVENTORY}---\n${DB_FROM_WEB}`);

  it('lists flows the candidate denies that are allowed today, by the rule that denies them, and the reverse', () => {
    const flows = [
      flow('shop/db', 'ingress', '10.9.0.7', 5432), // outside the ipBlock: newly denied (db is isolated)
      flow('shop/db', 'ingress', '10.1.2.3', 5432), // allowed by the new rule: unchanged
      flow('shop/db', 'egress', '10.9.0.7', 443), // egress is not isolated: unchanged
      flow('ops/mon', 'ingress', '10.9.0.7', 9100), // a pod the inventory lacks: judged with no labels, unchanged
    ];
    const r = whatIf(
      flows,
      () => today,
      () => next,
    );
    expect(r.evaluated).toBe(4);
    expect(r.newlyDenied).toEqual([
      {
        policy: 'NetworkPolicy/shop/db-from-web',
        rule: 'isolation',
        flows: [expect.objectContaining({ peer: '10.9.0.7', port: 5432, todayPolicy: 'default-allow' })],
      },
    ]);
    expect(r.newlyAllowed).toEqual([]);
    const back = whatIf(
      flows,
      () => next,
      () => today,
    );
    expect(back.newlyAllowed.map((g) => [g.policy, g.rule, g.flows.length])).toEqual([['NetworkPolicy/shop/db-from-web', 'isolation', 1]]);
    expect(back.newlyDenied).toEqual([]);
  });

  it('skips flows whose peer is neither an address nor a known pod', () => {
    const r = whatIf(
      [flow('shop/db', 'ingress', 'not-an-endpoint', 5432)],
      () => today,
      () => next,
    );
    expect(r).toEqual({ newlyDenied: [], newlyAllowed: [], evaluated: 0 });
  });
});
