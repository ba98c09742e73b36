// Builders for the Kubernetes objects tests feed the fake API server.
import type { KubeObject } from './fake-apiserver.ts';

export const ns = (name: string, labels: Record<string, string> = {}): KubeObject => ({ kind: 'Namespace', metadata: { name, labels } });

export function pod(
  namespace: string,
  name: string,
  o: { labels?: Record<string, string>; ip?: string; node?: string; ports?: number[]; phase?: string } = {},
): KubeObject {
  return {
    kind: 'Pod',
    metadata: { name, namespace, labels: o.labels ?? {} },
    spec: {
      nodeName: o.node ?? 'node-a',
      containers: [{ name: 'main', image: 'x', ports: (o.ports ?? []).map((p) => ({ containerPort: p, protocol: 'TCP' })) }],
    },
    status: { phase: o.phase ?? 'Running', ...(o.ip ? { podIP: o.ip, podIPs: [{ ip: o.ip }] } : {}) },
  };
}

export const netpol = (namespace: string, name: string, app: string): KubeObject => ({
  kind: 'NetworkPolicy',
  metadata: { name, namespace },
  spec: { podSelector: { matchLabels: { app } }, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: {} }] }] },
});

export const cnp = (name: string, tier: 'Admin' | 'Baseline', priority: number, egress: unknown[] = []): KubeObject => ({
  kind: 'ClusterNetworkPolicy',
  metadata: { name },
  spec: {
    tier,
    priority,
    subject: { namespaces: {} },
    ingress: [{ name: 'deny-all', action: 'Deny', from: [{ namespaces: {} }] }],
    ...(egress.length > 0 && { egress }),
  },
});

export const node = (name: string, ip: string, labels: Record<string, string> = {}): KubeObject => ({
  kind: 'Node',
  metadata: { name, labels },
  status: {
    addresses: [
      { type: 'InternalIP', address: ip },
      { type: 'Hostname', address: name },
    ],
  },
});

export const anp = (name: string, priority: number): KubeObject => ({
  kind: 'AdminNetworkPolicy',
  metadata: { name },
  spec: { priority, subject: { namespaces: {} }, ingress: [{ name: 'deny-all', action: 'Deny', from: [{ namespaces: {} }] }] },
});

export const banp = (): KubeObject => ({
  kind: 'BaselineAdminNetworkPolicy',
  metadata: { name: 'default' },
  spec: { subject: { namespaces: {} }, ingress: [{ name: 'deny', action: 'Deny', from: [{ namespaces: {} }] }] },
});
