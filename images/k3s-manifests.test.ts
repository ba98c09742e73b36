import { describe, expect, it } from 'vitest';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { HOST_AGENT_LABEL, k3sManifests } from './k3s-manifests.ts';

const deploy = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'edge-agent/deploy/k3s');
const objects = (text: string) => parseAllDocuments(text).map((d) => d.toJS() as { kind: string; spec?: { template?: { spec?: Record<string, unknown> } } });

describe('k3s auto-deploy manifests in the image', () => {
  const ms = k3sManifests(deploy);
  it('ships every object of the agent deploy folder but the kustomization', () => {
    const kinds = ms.flatMap((m) => objects(m.content).map((o) => o.kind)).sort();
    expect(kinds).toEqual(expect.arrayContaining(['ClusterRole', 'ClusterRoleBinding', 'DaemonSet', 'Namespace', 'ServiceAccount']));
    expect(kinds).not.toContain('Kustomization');
    expect(ms.every((m) => m.name.startsWith('weft-'))).toBe(true);
  });
  it('keeps the DaemonSet off the appliance node, which runs the agent as a host service', () => {
    const ds = ms.flatMap((m) => objects(m.content)).find((o) => o.kind === 'DaemonSet')!;
    expect(ds.spec!.template!.spec!.affinity).toEqual({
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: HOST_AGENT_LABEL, operator: 'DoesNotExist' }] }] },
      },
    });
    expect(ds.spec!.template!.spec!.hostNetwork).toBe(true);
  });
});
