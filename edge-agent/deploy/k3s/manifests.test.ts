// The k3s manifests: parsed as the API server would see them, and checked for what the agent needs and for
// nothing more (least privilege). The ClusterRole is also checked against what edge-agent/kube watches.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { RESOURCES } from '../../kube/api-resources.ts';
import { defaults } from '../../config.ts';

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [k: string]: unknown;
}
interface Container {
  name: string;
  env?: { name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  securityContext: { privileged?: boolean; allowPrivilegeEscalation?: boolean; capabilities: { add: string[]; drop: string[] } };
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface PodSpec {
  hostNetwork?: boolean;
  serviceAccountName: string;
  containers: Container[];
  volumes: { name: string; hostPath?: { path: string; type?: string }; secret?: { secretName: string; optional?: boolean } }[];
}
interface DaemonSet extends Obj {
  spec: { selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } };
}
interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

const dir = import.meta.dirname;
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
const objects: Obj[] = files.flatMap((f) =>
  parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d, i) => {
    if (d.errors.length > 0) throw new Error(`${f}#${i + 1}: ${d.errors[0].message}`);
    return d.toJS() as Obj;
  }),
);
const one = <T extends Obj>(kind: string): T => {
  const found = objects.filter((o) => o.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0] as T;
};

describe('k3s manifests', () => {
  it('every document has apiVersion, kind and name; kustomization lists every file', () => {
    for (const o of objects)
      expect(o, JSON.stringify(o).slice(0, 80)).toMatchObject({
        apiVersion: expect.any(String),
        kind: expect.any(String),
        metadata: { name: expect.any(String) },
      });
    const k = parseAllDocuments(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'))[0].toJS() as { resources: string[] };
    expect([...k.resources].sort()).toEqual([...files].sort());
  });

  it('DaemonSet: host network, BPF + NET_ADMIN (+PERFMON, SYS_RESOURCE) and nothing else, not privileged', () => {
    const ds = one<DaemonSet>('DaemonSet');
    const pod = ds.spec.template.spec;
    expect(pod.hostNetwork).toBe(true);
    expect(ds.spec.template.metadata.labels).toEqual(expect.objectContaining(ds.spec.selector.matchLabels)); // the selector picks its own pods
    expect(pod.containers).toHaveLength(1);
    const sc = pod.containers[0].securityContext;
    expect(sc.privileged).not.toBe(true);
    expect(sc.allowPrivilegeEscalation).toBe(false);
    expect(sc.capabilities.drop).toEqual(['ALL']);
    expect([...sc.capabilities.add].sort()).toEqual(['BPF', 'NET_ADMIN', 'PERFMON', 'SYS_RESOURCE']);
    expect(pod.containers[0].env).toEqual(expect.arrayContaining([{ name: 'WEFT_NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }]));
  });

  it("DaemonSet: every node enrolls by itself from the Secret holding the site's node token, under its own node name", () => {
    const pod = one<DaemonSet>('DaemonSet').spec.template.spec;
    const env = pod.containers[0].env as { name: string; value?: string }[];
    const file = env.find((e) => e.name === 'WEFT_PROVISION_FILE')?.value;
    const vol = pod.volumes.find((v) => v.name === 'node-token');
    const mount = pod.containers[0].volumeMounts.find((m) => m.name === 'node-token');
    expect(vol?.secret).toMatchObject({ secretName: 'weft-node-token', optional: true });
    expect(mount).toMatchObject({ readOnly: true });
    expect(file?.startsWith(`${mount?.mountPath}/`)).toBe(true);
    // the agent reads these names (edge-agent/config.ts defaults)
    const cfg = defaults({ WEFT_NODE_NAME: 'node-a', WEFT_PROVISION_FILE: file });
    expect(cfg).toMatchObject({ nodeName: 'node-a', provisionFile: file });
  });

  it('DaemonSet: the host bpffs and /var/lib/weft are mounted read-write at the same paths, and no other host path', () => {
    const pod = one<DaemonSet>('DaemonSet').spec.template.spec;
    const mounts = pod.containers[0].volumeMounts;
    for (const [hostPath, type] of [
      ['/sys/fs/bpf', 'Directory'],
      ['/var/lib/weft', 'DirectoryOrCreate'],
    ]) {
      const vol = pod.volumes.find((v) => v.hostPath?.path === hostPath);
      expect(vol, hostPath).toBeDefined();
      expect(vol!.hostPath!.type).toBe(type);
      const m = mounts.find((x) => x.name === vol!.name);
      expect(m).toMatchObject({ mountPath: hostPath });
      expect(m!.readOnly).not.toBe(true);
    }
    expect(
      pod.volumes
        .filter((v) => v.hostPath)
        .map((v) => v.hostPath!.path)
        .sort(),
    ).toEqual(['/sys/fs/bpf', '/var/lib/weft']);
  });

  it('ServiceAccount, ClusterRole and ClusterRoleBinding tie together in the DaemonSet namespace', () => {
    const ds = one<DaemonSet>('DaemonSet');
    const sa = one('ServiceAccount');
    const role = one('ClusterRole');
    const binding = one<Obj & { roleRef: { kind: string; name: string; apiGroup: string }; subjects: { kind: string; name: string; namespace: string }[] }>(
      'ClusterRoleBinding',
    );
    expect(ds.spec.template.spec.serviceAccountName).toBe(sa.metadata.name);
    expect(sa.metadata.namespace).toBe(ds.metadata.namespace);
    expect(one('Namespace').metadata.name).toBe(ds.metadata.namespace);
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata.name });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: sa.metadata.namespace }]);
  });

  it('ClusterRole: list/watch only (what informers need), on exactly the resources the inventory watches', () => {
    const rules = (one('ClusterRole') as Obj & { rules: Rule[] }).rules;
    for (const r of rules) {
      expect([...r.verbs].sort()).toEqual(['list', 'watch']);
      expect(r.apiGroups).not.toContain('*');
      expect(r.resources).not.toContain('*');
    }
    const granted = rules.flatMap((r) => r.apiGroups.flatMap((g) => r.resources.map((res) => `${g}/${res}`))).sort();
    expect(granted).toEqual(RESOURCES.map((d) => `${d.group}/${d.resource}`).sort());
  });
});
