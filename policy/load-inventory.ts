// Namespaces, Pods, Nodes and workload controllers -> the Inventory. A controller stands for one pod
// named `<namespace>/<name>` with its pod template's labels and container ports.
import { subPath } from './errors.ts';
import type { ContainerPort, NodeInfo, PodInfo } from './inventory.ts';
import { parseIp } from '../base/pure.ts';
import { checkPortName, readPortNumber, readProtocol, type Meta } from './load-common.ts';
import type { Obj, Reader } from './reader.ts';

export const WORKLOAD_KINDS = ['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'ReplicationController'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

export function loadPod(r: Reader, obj: Obj, path: string, meta: Meta): PodInfo {
  const spec = r.object(obj, 'spec', path);
  const pod: PodInfo = { namespace: meta.namespace, name: meta.name, labels: meta.labels, ports: spec ? readContainers(r, spec, subPath(path, 'spec')) : [] };
  const ips = podIps(r, obj, path);
  return ips.length > 0 ? { ...pod, ips } : pod;
}

/** status.podIPs[].ip (or status.podIP), as `kubectl get pod -o yaml` writes them: what `networks` peers match. */
function podIps(r: Reader, obj: Obj, path: string): string[] {
  const status = r.object(obj, 'status', path);
  if (!status) return [];
  const sp = subPath(path, 'status');
  const list = r.list(status, 'podIPs', sp);
  const ips = list ? r.objects(list, subPath(sp, 'podIPs')).map(({ item, path: p }) => r.string(item, 'ip', p, true)) : [r.string(status, 'podIP', sp)];
  return ips.filter((ip): ip is string => ip !== null && parseIp(ip) !== null);
}

/** A Node's IP addresses (status.addresses of any type that holds an IP: InternalIP, ExternalIP). */
export function loadNode(r: Reader, obj: Obj, path: string, meta: Meta): NodeInfo {
  const status = r.object(obj, 'status', path);
  const sp = subPath(path, 'status');
  const addresses: string[] = [];
  for (const { item, path: ap } of r.objects((status && r.list(status, 'addresses', sp)) ?? [], subPath(sp, 'addresses'))) {
    const a = r.string(item, 'address', ap, true);
    if (a !== null && parseIp(a)) addresses.push(a);
  }
  return { name: meta.name, labels: meta.labels, addresses };
}

export function loadWorkload(r: Reader, obj: Obj, path: string, meta: Meta, kind: WorkloadKind): PodInfo {
  let spec = r.object(obj, 'spec', path, true);
  let sp = subPath(path, 'spec');
  if (spec && kind === 'CronJob') {
    const jt = r.object(spec, 'jobTemplate', sp, true);
    sp = subPath(sp, 'jobTemplate');
    spec = jt ? r.object(jt, 'spec', sp, true) : null;
    sp = subPath(sp, 'spec');
  }
  const template = spec ? r.object(spec, 'template', sp, true) : null;
  const tp = subPath(sp, 'template');
  const tmeta = template ? r.object(template, 'metadata', tp) : null;
  const labels = tmeta ? r.labels(tmeta, 'labels', subPath(tp, 'metadata')) : {};
  const tspec = template ? r.object(template, 'spec', tp) : null;
  return { namespace: meta.namespace, name: meta.name, labels, ports: tspec ? readContainers(r, tspec, subPath(tp, 'spec')) : [] };
}

function readContainers(r: Reader, spec: Obj, path: string): ContainerPort[] {
  const out: ContainerPort[] = [];
  const containers = r.list(spec, 'containers', path) ?? [];
  for (const { item, path: cp } of r.objects(containers, subPath(path, 'containers'))) {
    const ports = r.list(item, 'ports', cp) ?? [];
    for (const { item: port, path: pp } of r.objects(ports, subPath(cp, 'ports'))) {
      const containerPort = readPortNumber(r, port, 'containerPort', pp, true);
      const protocol = readProtocol(r, port, pp);
      const name = r.string(port, 'name', pp);
      if (name !== null && !checkPortName(r, name, subPath(pp, 'name'))) continue;
      if (containerPort === null || protocol === null) continue;
      out.push(name === null ? { containerPort, protocol } : { name, containerPort, protocol });
    }
  }
  return out;
}
