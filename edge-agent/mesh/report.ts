// What the site offers its linked sites, from the config and the k3s inventory: the export prefix,
// its own endpoints, and the pods inside the prefix with their labels (the hub maps their addresses).
import { cidrContains, parseCidr, parseIp } from '../../base/index.ts';
import type { MeshReport } from '../../protocol/index.ts';
import type { KubeSnapshot } from '../kube/types.ts';

export function meshReportInputs(
  exportPrefix: string | null,
  endpoints: string | undefined,
  snap: Pick<KubeSnapshot, 'namespaces' | 'pods'> | null,
): Pick<MeshReport, 'exportPrefix' | 'endpoints' | 'namespaces' | 'pods'> {
  const prefix = exportPrefix ? parseCidr(exportPrefix) : null;
  const inside = (a: string) => {
    const ip = parseIp(a);
    return prefix !== null && ip !== null && cidrContains(prefix, ip);
  };
  const pods = (snap?.pods ?? [])
    .map((p) => ({ namespace: p.namespace, name: p.name, labels: p.labels, ips: (p.ips ?? []).filter(inside) }))
    .filter((p) => p.ips.length > 0);
  const used = new Set(pods.map((p) => p.namespace));
  return {
    exportPrefix,
    endpoints: (endpoints ?? '')
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean),
    namespaces: (snap?.namespaces ?? []).filter((n) => used.has(n.name)).map((n) => ({ name: n.name, labels: n.labels })),
    pods,
  };
}
