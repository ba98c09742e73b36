// Validation: every problem of every document is reported with a code, its place and a hint.
import { describe, expect, it } from 'vitest';
import { formatError } from '../base/index.ts';
import { loadPolicies } from './load.ts';
import { parseManifests } from './parse.ts';

function problems(text: string, file = 'policies/db.yaml') {
  const parsed = parseManifests([{ file, text }]);
  const loaded = loadPolicies(parsed.objects);
  return [...parsed.errors, ...loaded.errors];
}

const np = (spec: string) => `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
${spec.replace(/^/gm, '  ')}
`;

describe('validation errors', () => {
  it('prints file#doc path: message (CODE) and the hint', () => {
    const text = `apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\n${np(`podSelector: {}
ingress: [{ports: [{port: 443}, {port: 443, endPort: 80}]}]`)}`;
    const [e, ...rest] = problems(text);
    expect(rest).toEqual([]);
    expect(formatError(e)).toBe(
      'policies/db.yaml#2 spec.ingress[0].ports[1].endPort: endPort 80 < port 443 (POLICY_ENDPORT_BEFORE_PORT)\n  hint: endPort must be >= port',
    );
  });

  it.each([
    ['unknown kind: another CNI policy', 'apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: x}', 'POLICY_UNKNOWN_KIND', 'kind'],
    ['unknown kind: a typo', 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicys\nmetadata: {name: x}', 'POLICY_UNKNOWN_KIND', 'kind'],
    [
      'wrong apiVersion',
      'apiVersion: networking.k8s.io/v1beta1\nkind: NetworkPolicy\nmetadata: {name: x}\nspec: {}',
      'POLICY_UNKNOWN_API_VERSION',
      'apiVersion',
    ],
    ['missing name', 'apiVersion: v1\nkind: Pod\nmetadata: {namespace: x}', 'POLICY_MISSING_FIELD', 'metadata.name'],
    ['bad CIDR', np('ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/33}}]}]'), 'POLICY_BAD_CIDR', 'spec.ingress[0].from[0].ipBlock.cidr'],
    [
      'except outside cidr',
      np('ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [11.0.0.0/8]}}]}]'),
      'POLICY_BAD_CIDR',
      'spec.ingress[0].from[0].ipBlock.except[0]',
    ],
    ['ipBlock with a selector', np('ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}]}]'), 'POLICY_PEER_CONFLICT', 'spec.ingress[0].from[0]'],
    ['empty peer', np('egress: [{to: [{}]}]'), 'POLICY_EMPTY_PEER', 'spec.egress[0].to[0]'],
    ['bad protocol', np('ingress: [{ports: [{protocol: ICMP, port: 1}]}]'), 'POLICY_BAD_PROTOCOL', 'spec.ingress[0].ports[0].protocol'],
    ['port out of range', np('ingress: [{ports: [{port: 70000}]}]'), 'POLICY_BAD_PORT', 'spec.ingress[0].ports[0].port'],
    ['endPort with a named port', np('ingress: [{ports: [{port: http, endPort: 90}]}]'), 'POLICY_ENDPORT_NAMED', 'spec.ingress[0].ports[0].endPort'],
    [
      'bad operator',
      np('podSelector: {matchExpressions: [{key: a, operator: Like, values: [b]}]}'),
      'POLICY_BAD_SELECTOR',
      'spec.podSelector.matchExpressions[0].operator',
    ],
    [
      'In without values',
      np('podSelector: {matchExpressions: [{key: a, operator: In}]}'),
      'POLICY_BAD_SELECTOR',
      'spec.podSelector.matchExpressions[0].values',
    ],
    ['numeric label value', np('podSelector: {matchLabels: {version: 1}}'), 'POLICY_BAD_LABEL', 'spec.podSelector.matchLabels.version'],
    ['typo in a field', np('podselector: {}'), 'POLICY_UNKNOWN_FIELD', 'spec.podselector'],
    ['bad policy type', np('policyTypes: [Inbound]'), 'POLICY_BAD_POLICY_TYPE', 'spec.policyTypes[0]'],
    [
      'bad mode',
      'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x, annotations: {weft.dev/mode: dry}}\nspec: {}',
      'POLICY_BAD_MODE',
      'metadata.annotations["weft.dev/mode"]',
    ],
    [
      'ANP priority out of range',
      'apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: a}\nspec: {priority: 1001, subject: {namespaces: {}}}',
      'POLICY_BAD_PRIORITY',
      'spec.priority',
    ],
    [
      'ANP bad action',
      'apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: a}\nspec: {priority: 1, subject: {namespaces: {}}, ingress: [{action: Drop, from: [{namespaces: {}}]}]}',
      'POLICY_BAD_ACTION',
      'spec.ingress[0].action',
    ],
    [
      'BANP cannot Pass',
      'apiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\nmetadata: {name: default}\nspec: {subject: {namespaces: {}}, ingress: [{action: Pass, from: [{namespaces: {}}]}]}',
      'POLICY_BAD_ACTION',
      'spec.ingress[0].action',
    ],
    [
      'BANP name',
      'apiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\nmetadata: {name: base}\nspec: {subject: {namespaces: {}}}',
      'POLICY_BANP_NAME',
      'metadata.name',
    ],
    [
      'ANP subject with both kinds',
      'apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: a}\nspec: {priority: 1, subject: {namespaces: {}, pods: {namespaceSelector: {}, podSelector: {}}}}',
      'POLICY_PEER_CONFLICT',
      'spec.subject',
    ],
    [
      'ANP portRange end before start',
      'apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: a}\nspec: {priority: 1, subject: {namespaces: {}}, ingress: [{action: Deny, from: [{namespaces: {}}], ports: [{portRange: {start: 9, end: 8}}]}]}',
      'POLICY_ENDPORT_BEFORE_PORT',
      'spec.ingress[0].ports[0].portRange.end',
    ],
    [
      'ANP networks on ingress',
      'apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: a}\nspec: {priority: 1, subject: {namespaces: {}}, ingress: [{action: Deny, from: [{networks: [10.0.0.0/8]}]}]}',
      'POLICY_UNKNOWN_FIELD',
      'spec.ingress[0].from[0].networks',
    ],
    ['YAML syntax', 'kind: [unclosed', 'POLICY_YAML', ''],
    ['not an object', '- just\n- a list', 'POLICY_NOT_OBJECT', ''],
    ['a List item that is not an object', 'apiVersion: v1\nkind: List\nitems: [3]', 'POLICY_NOT_OBJECT', 'items[0]'],
  ])('%s', (_name, text, code, path) => {
    const errs = problems(text);
    expect(errs.map((e) => [e.code, e.path])).toContainEqual([code, path]);
    for (const e of errs) expect(e.hint, `${e.code} has a hint`).toBeTruthy();
  });

  it('collects every error of every document, not just the first', () => {
    const text = `${np('ingress: [{ports: [{port: 0}, {protocol: FOO}]}]')}---\napiVersion: v1\nkind: Networkpolicy\nmetadata: {name: s}\n---\n${np('egress: [{to: [{}]}]').replace('name: db', 'name: db2')}`;
    expect(problems(text).map((e) => `#${e.doc} ${e.code}`)).toEqual([
      '#1 POLICY_BAD_PORT',
      '#1 POLICY_BAD_PROTOCOL',
      '#2 POLICY_UNKNOWN_KIND',
      '#3 POLICY_EMPTY_PEER',
    ]);
  });

  it('reads past built-in kinds without policy meaning, with a warning that names them', () => {
    const text = `apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Service, metadata: {name: web}}\n---\n${np('podSelector: {}')}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n`;
    const parsed = parseManifests([{ file: 'app.yaml', text }]);
    const loaded = loadPolicies(parsed.objects);
    expect([...parsed.errors, ...loaded.errors]).toEqual([]);
    expect(loaded.policies.network.map((p) => p.name)).toEqual(['db']);
    expect(loaded.warnings.map(formatError)).toEqual([
      'app.yaml#1 items[0].kind: Service ignored: it has no effect on network policy (POLICY_IGNORED_KIND)\n  hint: only Namespace, Pod, Node, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, ReplicationController, NetworkPolicy, ClusterNetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy are read',
      'app.yaml#3 kind: ConfigMap ignored: it has no effect on network policy (POLICY_IGNORED_KIND)\n  hint: only Namespace, Pod, Node, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, ReplicationController, NetworkPolicy, ClusterNetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy are read',
    ]);
  });

  it('reports duplicates', () => {
    expect(problems(`${np('{}')}---\n${np('{}')}`).map((e) => e.code)).toEqual(['POLICY_DUPLICATE']);
  });
});

describe('inventory from manifests', () => {
  it('reads Pods and every workload kind as one pod each, with template labels and ports; lists and typed lists', () => {
    const text = `apiVersion: v1
kind: List
items:
- {apiVersion: apps/v1, kind: Deployment, metadata: {name: d, namespace: n}, spec: {template: {metadata: {labels: {a: d}}, spec: {containers: [{name: c, ports: [{name: http, containerPort: 80}]}]}}}}
- {apiVersion: batch/v1, kind: CronJob, metadata: {name: cj}, spec: {jobTemplate: {spec: {template: {metadata: {labels: {a: cj}}}}}}}
---
apiVersion: v1
kind: PodList
items:
- {metadata: {name: p, namespace: n, labels: {a: p}}, spec: {containers: [{name: c, ports: [{containerPort: 53, protocol: UDP}]}]}}
`;
    const parsed = parseManifests([{ file: 'x.json', text }]);
    const { inventory, errors } = loadPolicies(parsed.objects);
    expect([...parsed.errors, ...errors]).toEqual([]);
    expect(inventory.pods).toEqual([
      { namespace: 'default', name: 'cj', labels: { a: 'cj' }, ports: [] },
      { namespace: 'n', name: 'd', labels: { a: 'd' }, ports: [{ name: 'http', containerPort: 80, protocol: 'TCP' }] },
      { namespace: 'n', name: 'p', labels: { a: 'p' }, ports: [{ containerPort: 53, protocol: 'UDP' }] },
    ]);
    expect(inventory.namespaces).toEqual([
      { name: 'default', labels: { 'kubernetes.io/metadata.name': 'default' } },
      { name: 'n', labels: { 'kubernetes.io/metadata.name': 'n' } },
    ]);
  });

  it('loads plain objects (a bundle) with their index as the place', () => {
    const { errors } = loadPolicies([{ kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1', metadata: { name: 'x' }, spec: { podSelector: 3 } }], {
      file: 'bundle',
    });
    expect(errors.map((e) => `${e.file}#${e.doc} ${e.path}`)).toEqual(['bundle#1 spec.podSelector']);
  });
});
