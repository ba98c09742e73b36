// Compiled table sizes and map limits: sizes are what the tables hold, and a set that does not fit
// a map is an error naming the table, never a partial result.
import { describe, expect, it } from 'vitest';
import { CapacityError } from './capacity.ts';
import { compile } from './compile.ts';
import { DEFAULT_LIMITS, type MapLimits, type Tables } from './tables.ts';
import { load } from './testing/world.ts';

const w = load(`
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: shop, labels: {app: db}}
spec: {containers: [{name: pg, image: pg, ports: [{name: pg, containerPort: 5432}]}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress, Egress]
  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}, {ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}], ports: [{port: pg}]}]
  egress: [{to: [{ipBlock: {cidr: 192.168.0.0/24}}], ports: [{protocol: UDP, port: 53}]}]
`);
const withIps = { ...w.inventory, pods: w.inventory.pods.map((p, i) => ({ ...p, ips: [`10.244.0.${i + 1}`, `fd44::${i + 1}`] })) };

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return null;
}

describe('table sizes', () => {
  it('report what the tables hold', () => {
    const t: Tables = compile(w.policies, withIps);
    expect(t.sizes).toEqual({
      endpoints: t.endpoints.length,
      ipcache: t.ipcache.length,
      sets: t.sets.length,
      rules: t.rules.length,
      identities: t.identities.length,
      attributions: t.attributions.length,
    });
    // db and web; db isolated both ways, web by nothing.
    expect(t.endpoints.map((e) => [e.pod, e.ingressSet > 0, e.egressSet > 0])).toEqual([
      ['shop/db', true, true],
      ['shop/web', false, false],
    ]);
    expect(t.sets).toHaveLength(2);
    // default allow, the two rules and the isolation of the one NetworkPolicy
    expect(t.attributions.map((a) => a.rule)).toEqual(['default', 'ingress[0]', 'egress[0]', 'isolation']);
    // 4 pod addresses, plus the CIDR classes of 10.0.0.0/8 minus 10.1.0.0/16 and 192.168.0.0/24
    expect(t.ipcache.filter((e) => e.cidr.endsWith('/32') || e.cidr.endsWith('/128'))).toHaveLength(4);
    expect(t.ipcache.map((e) => e.cidr)).toEqual(expect.arrayContaining(['10.0.0.0/16', '10.2.0.0/15', '10.128.0.0/9', '192.168.0.0/24']));
    expect(t.ipcache.map((e) => e.cidr)).not.toContain('10.1.0.0/16');
  });
});

describe('map limits', () => {
  const fits = compile(w.policies, withIps).sizes;
  const exact: MapLimits = { endpoints: 4, ipcache: fits.ipcache, sets: fits.sets, rules: fits.rules };

  it('a set that fits exactly compiles', () => {
    expect(compile(w.policies, withIps, { limits: exact }).sizes).toEqual(fits);
  });

  it.each([
    ['rules', { ...exact, rules: fits.rules - 1 }, fits.rules],
    ['sets', { ...exact, sets: fits.sets - 1 }, fits.sets],
    ['ipcache', { ...exact, ipcache: fits.ipcache - 1 }, fits.ipcache],
    // two pods but four addresses: the endpoint map is keyed by address
    ['endpoints', { ...exact, endpoints: 3 }, 4],
  ] as const)('one entry too many for %s is a CapacityError, not a partial result', (table, limits, needed) => {
    const e = thrown(() => compile(w.policies, withIps, { limits }));
    expect(e).toBeInstanceOf(CapacityError);
    expect(e).toMatchObject({ code: 'POLICY_CAPACITY', table, needed, limit: limits[table] });
    expect((e as CapacityError).hint).toContain(`raise the ${table} map limit`);
  });

  it('defaults apply when no limits are given', () => {
    expect(DEFAULT_LIMITS.rules).toBeGreaterThan(fits.rules);
    expect(thrown(() => compile(w.policies, withIps))).toBeNull();
  });
});
