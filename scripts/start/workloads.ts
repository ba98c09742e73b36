// What runs at each demo site: three pods (shop/web, shop/db, ops/monitor) as the k3s API
// reports them, the services they listen on, and where the site is on the map.
import type { KubeObject } from '../../edge-agent/kube/fake-apiserver.ts';
import { ns, pod } from '../../edge-agent/kube/test-objects.ts';
import type { SiteNet } from '../../field-tests/lib/index.ts';

export const PODS_PER_SITE = 3;
export const WEB_PORT = 8080;
export const DB_PORT = 5432;

export interface Role {
  namespace: string;
  name: string;
  app: string;
  /** TCP port it serves (web: HTTP, db: an echo server), if any. */
  port?: number;
}

/** By pod index in the fabric (pod1, pod2, pod3). */
export const ROLES: readonly Role[] = [
  { namespace: 'shop', name: 'web', app: 'web', port: WEB_PORT },
  { namespace: 'shop', name: 'db', app: 'db', port: DB_PORT },
  { namespace: 'ops', name: 'monitor', app: 'monitor' },
];

/** The k3s objects of one site: its namespaces and pods, scheduled on the site's node. */
export function kubeObjects(site: SiteNet): KubeObject[] {
  const namespaces = [...new Set(ROLES.map((r) => r.namespace))].map((n) => ns(n, { 'kubernetes.io/metadata.name': n }));
  const pods = site.pods.map((p, i) => pod(ROLES[i].namespace, ROLES[i].name, {
    labels: { app: ROLES[i].app }, ip: p.ip, node: site.name, ports: ROLES[i].port ? [ROLES[i].port] : [],
  }));
  return [...namespaces, ...pods];
}

const CITIES: readonly [string, number, number][] = [
  ['paris', 48.86, 2.35], ['lyon', 45.76, 4.84], ['berlin', 52.52, 13.4], ['madrid', 40.42, -3.7], ['milan', 45.46, 9.19], ['amsterdam', 52.37, 4.9],
];

/** Site i (1-based): a city, then points further east for large demos. The demo's users sit in Paris. */
export function location(i: number): { city: string; lat: number; lon: number } {
  const c = CITIES[i - 1];
  return c ? { city: c[0], lat: c[1], lon: c[2] } : { city: `east-${i}`, lat: 50, lon: 15 + i };
}

export const USERS_AT = { lat: 48.85, lon: 2.29 };
