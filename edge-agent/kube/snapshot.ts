// Maps the API's objects (plain JSON from a list or a watch) to what the agent's snapshot keeps.
import { parseIp } from '../../base/index.ts';
import { compareCodeUnits, type ContainerPort, type NamespaceInfo, type NodeInfo, type Protocol } from '../../policy/index.ts';
import type { KubePod, PodPhase } from './types.ts';

interface MetaLike {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
}
interface PodLike {
  metadata?: MetaLike;
  spec?: { nodeName?: string; containers?: { ports?: { name?: string; containerPort?: number; protocol?: string }[] }[] };
  status?: { phase?: string; podIP?: string; podIPs?: { ip?: string }[] };
}

const PROTOCOLS = new Set<Protocol>(['TCP', 'UDP', 'SCTP']);
const PHASES = new Set<PodPhase>(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown']);

export function toNamespace(o: { metadata?: MetaLike }): NamespaceInfo {
  return { name: o.metadata?.name ?? '', labels: { ...(o.metadata?.labels ?? {}) } };
}

/** A Node's labels and the addresses of status.addresses that are IPs (InternalIP, ExternalIP; not Hostname). */
export function toNode(o: { metadata?: MetaLike; status?: { addresses?: { type?: string; address?: string }[] } }): NodeInfo {
  const addresses = (o.status?.addresses ?? []).map((a) => a.address).filter((a): a is string => typeof a === 'string' && parseIp(a) !== null);
  return { name: o.metadata?.name ?? '', labels: { ...(o.metadata?.labels ?? {}) }, addresses };
}

export function toPod(o: PodLike): KubePod {
  const ports: ContainerPort[] = [];
  for (const c of o.spec?.containers ?? []) {
    for (const p of c.ports ?? []) {
      if (typeof p.containerPort !== 'number') continue;
      const protocol = (p.protocol ?? 'TCP') as Protocol;
      ports.push({ ...(p.name ? { name: p.name } : {}), containerPort: p.containerPort, protocol: PROTOCOLS.has(protocol) ? protocol : 'TCP' });
    }
  }
  const ips = (o.status?.podIPs ?? []).map((x) => x.ip).filter((ip): ip is string => !!ip);
  if (ips.length === 0 && o.status?.podIP) ips.push(o.status.podIP);
  const phase = (o.status?.phase ?? 'Unknown') as PodPhase;
  return {
    namespace: o.metadata?.namespace ?? '',
    name: o.metadata?.name ?? '',
    labels: { ...(o.metadata?.labels ?? {}) },
    ports,
    ips,
    ...(o.spec?.nodeName ? { node: o.spec.nodeName } : {}),
    phase: PHASES.has(phase) ? phase : 'Unknown',
  };
}

/** The policy as the API sent it, with apiVersion and kind (list items lack them) and without managedFields,
 *  which the compiler never reads and which is often larger than the spec. */
export function toRawPolicy(o: { metadata?: object }, apiVersion: string, kind: string): unknown {
  const { managedFields: _unused, ...metadata } = (o.metadata ?? {}) as Record<string, unknown>;
  return { ...o, metadata, apiVersion, kind };
}

export const byKey = (a: { namespace?: string; name: string }, b: { namespace?: string; name: string }) =>
  compareCodeUnits(a.namespace ?? '', b.namespace ?? '') || compareCodeUnits(a.name, b.name);
