// ClusterNetworkPolicy v1alpha2 validation, as the upstream Go types and experimental CRD define it:
// every error names its file, document, JSON path and the CRD rule; the peers Weft cannot use yet
// (a newer CRD's, domainNames outside Accept) are warnings with their behaviour stated.
import { describe, expect, it } from 'vitest';
import { formatError } from '../base/index.ts';
import { loadPolicies } from './load.ts';
import { parseManifests } from './parse.ts';
import { allowed, denied, flow, load, pick, ref, verdict } from './testing/world.ts';

const cnp = (spec: string, name = 'guard') => `apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: ${name}}
spec:
${spec.replace(/^/gm, '  ')}
`;
const admin = (rules: string) => cnp(`tier: Admin\npriority: 10\nsubject: {namespaces: {}}\n${rules}`);

function check(text: string) {
  const parsed = parseManifests([{ file: 'cnp.yaml', text: `apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\n${text}` }]);
  const loaded = loadPolicies(parsed.objects);
  return { errors: [...parsed.errors, ...loaded.errors], warnings: loaded.warnings, policies: loaded.policies };
}

describe('ClusterNetworkPolicy validation', () => {
  it('prints file#doc path: message (CODE), the CRD rule and the hint', () => {
    const { errors } = check(admin('egress: [{action: Accept, to: [{namespaces: {}}], protocols: [{tcp: {destinationPort: {range: {start: 90, end: 80}}}}]}]'));
    expect(errors.map(formatError)).toEqual([
      'cnp.yaml#2 spec.egress[0].protocols[0].tcp.destinationPort.range: start 90 is not less than end 80 [CRD rule: self.start < self.end] (POLICY_ENDPORT_BEFORE_PORT)\n  hint: Start port must be less than End port; write a single port as number',
    ]);
  });

  const many = (n: number, item: string) => `[${Array.from({ length: n }, () => item).join(', ')}]`;
  it.each([
    ['tier is required', cnp('priority: 1\nsubject: {namespaces: {}}'), 'POLICY_MISSING_FIELD', 'spec.tier', undefined],
    ['tier is Admin or Baseline', cnp('tier: Developer\npriority: 1\nsubject: {namespaces: {}}'), 'POLICY_BAD_VALUE', 'spec.tier', 'enum: [Admin, Baseline]'],
    ['priority is required', cnp('tier: Admin\nsubject: {namespaces: {}}'), 'POLICY_MISSING_FIELD', 'spec.priority', undefined],
    [
      'priority at most 1000',
      cnp('tier: Admin\npriority: 1001\nsubject: {namespaces: {}}'),
      'POLICY_BAD_PRIORITY',
      'spec.priority',
      'minimum: 0, maximum: 1000',
    ],
    ['subject: one of namespaces, pods', cnp('tier: Admin\npriority: 1\nsubject: {}'), 'POLICY_MISSING_FIELD', 'spec.subject', 'minProperties: 1'],
    [
      'subject: not both',
      cnp('tier: Admin\npriority: 1\nsubject: {namespaces: {}, pods: {podSelector: {}}}'),
      'POLICY_PEER_CONFLICT',
      'spec.subject',
      'maxProperties: 1',
    ],
    [
      'pods needs podSelector',
      cnp('tier: Admin\npriority: 1\nsubject: {pods: {namespaceSelector: {}}}'),
      'POLICY_MISSING_FIELD',
      'spec.subject.pods.podSelector',
      'required: [podSelector]',
    ],
    ['26 ingress rules', admin(`ingress: ${many(26, '{action: Deny, from: [{namespaces: {}}]}')}`), 'POLICY_BAD_VALUE', 'spec.ingress', 'maxItems: 25'],
    ['26 peers', admin(`ingress: [{action: Deny, from: ${many(26, '{namespaces: {}}')}}]`), 'POLICY_BAD_VALUE', 'spec.ingress[0].from', 'maxItems: 25'],
    [
      '26 protocols',
      admin(`ingress: [{action: Deny, from: [{namespaces: {}}], protocols: ${many(26, '{destinationNamedPort: web}')}}]`),
      'POLICY_BAD_VALUE',
      'spec.ingress[0].protocols',
      'maxItems: 25',
    ],
    ['from is required', admin('ingress: [{action: Deny}]'), 'POLICY_MISSING_FIELD', 'spec.ingress[0].from', undefined],
    ['from: at least one peer', admin('ingress: [{action: Deny, from: []}]'), 'POLICY_EMPTY_PEER', 'spec.ingress[0].from', 'minItems: 1'],
    [
      'protocols: at least one',
      admin('ingress: [{action: Deny, from: [{namespaces: {}}], protocols: []}]'),
      'POLICY_EMPTY_PEER',
      'spec.ingress[0].protocols',
      'minItems: 1',
    ],
    [
      'v1alpha1 action Allow',
      admin('ingress: [{action: Allow, from: [{namespaces: {}}]}]'),
      'POLICY_BAD_ACTION',
      'spec.ingress[0].action',
      'enum: [Accept, Deny, Pass]',
    ],
    [
      'rule name at most 100',
      admin(`ingress: [{name: ${'x'.repeat(101)}, action: Deny, from: [{namespaces: {}}]}]`),
      'POLICY_BAD_VALUE',
      'spec.ingress[0].name',
      'maxLength: 100',
    ],
    ['an empty peer', admin('egress: [{action: Deny, to: [{}]}]'), 'POLICY_EMPTY_PEER', 'spec.egress[0].to[0]', 'minProperties: 1'],
    [
      'two fields in a peer',
      admin('egress: [{action: Deny, to: [{namespaces: {}, networks: [10.0.0.0/8]}]}]'),
      'POLICY_PEER_CONFLICT',
      'spec.egress[0].to[0]',
      'maxProperties: 1',
    ],
    [
      'networks in an ingress peer',
      admin('ingress: [{action: Deny, from: [{networks: [10.0.0.0/8]}]}]'),
      'POLICY_UNKNOWN_FIELD',
      'spec.ingress[0].from[0].networks',
      undefined,
    ],
    ['a bad CIDR', admin('egress: [{action: Deny, to: [{networks: [10.0.0.0/33]}]}]'), 'POLICY_BAD_CIDR', 'spec.egress[0].to[0].networks[0]', undefined],
    [
      'networks is a set',
      admin('egress: [{action: Deny, to: [{networks: [10.0.0.0/8, 10.0.0.0/8]}]}]'),
      'POLICY_DUPLICATE',
      'spec.egress[0].to[0].networks[1]',
      'x-kubernetes-list-type: set',
    ],
    [
      '26 networks',
      admin(`egress: [{action: Deny, to: [{networks: [${Array.from({ length: 26 }, (_, i) => `10.${i}.0.0/16`).join(', ')}]}]}]`),
      'POLICY_BAD_VALUE',
      'spec.egress[0].to[0].networks',
      'maxItems: 25',
    ],
    [
      'a wildcard inside a name',
      admin('egress: [{action: Accept, to: [{domainNames: [www.*.example.com]}]}]'),
      'POLICY_BAD_VALUE',
      'spec.egress[0].to[0].domainNames[0]',
      expect.stringMatching(/^pattern: /),
    ],
    [
      'a one-label name',
      admin('egress: [{action: Accept, to: [{domainNames: [localhost]}]}]'),
      'POLICY_BAD_VALUE',
      'spec.egress[0].to[0].domainNames[0]',
      expect.stringMatching(/^pattern: /),
    ],
    [
      'a protocol needs one field',
      admin('ingress: [{action: Deny, from: [{namespaces: {}}], protocols: [{tcp: {destinationPort: {number: 80}}, udp: {destinationPort: {number: 53}}}]}]'),
      'POLICY_BAD_PORT',
      'spec.ingress[0].protocols[0]',
      'maxProperties: 1',
    ],
    [
      'tcp needs destinationPort',
      admin('ingress: [{action: Deny, from: [{namespaces: {}}], protocols: [{tcp: {}}]}]'),
      'POLICY_BAD_PORT',
      'spec.ingress[0].protocols[0].tcp',
      'minProperties: 1',
    ],
    [
      'port 0',
      admin('ingress: [{action: Deny, from: [{namespaces: {}}], protocols: [{udp: {destinationPort: {number: 0}}}]}]'),
      'POLICY_BAD_PORT',
      'spec.ingress[0].protocols[0].udp.destinationPort.number',
      'minimum: 1, maximum: 65535',
    ],
    [
      'a one-port range',
      admin('ingress: [{action: Deny, from: [{namespaces: {}}], protocols: [{sctp: {destinationPort: {range: {start: 80, end: 80}}}}]}]'),
      'POLICY_ENDPORT_BEFORE_PORT',
      'spec.ingress[0].protocols[0].sctp.destinationPort.range',
      'self.start < self.end',
    ],
    [
      'a named port beside a networks peer',
      admin('egress: [{action: Deny, to: [{namespaces: {}}, {networks: [10.0.0.0/8]}], protocols: [{destinationNamedPort: web}]}]'),
      'POLICY_ENDPORT_NAMED',
      'spec.egress[0]',
      expect.stringContaining('has(protocol.destinationNamedPort)'),
    ],
    [
      'v1alpha1 apiVersion',
      cnp('tier: Admin\npriority: 1\nsubject: {namespaces: {}}').replace('v1alpha2', 'v1alpha1'),
      'POLICY_UNKNOWN_API_VERSION',
      'apiVersion',
      undefined,
    ],
  ])('%s', (_name, text, code, path, rule) => {
    const { errors } = check(text);
    expect(errors.map((e) => ({ code: e.code, doc: e.doc, path: e.path, rule: e.rule }))).toEqual([{ code, doc: 2, path, rule }]);
  });

  it('accepts the experimental peers and every protocol shape', () => {
    const { errors, warnings, policies } = check(
      admin(`egress:
- {name: dns, action: Accept, to: [{domainNames: ["*.example.com", kubernetes.io, "example.org."]}], protocols: [{tcp: {destinationPort: {number: 443}}}]}
- {action: Deny, to: [{nodes: {matchLabels: {role: infra}}}, {networks: [10.0.0.0/8, "fd00::/8"]}], protocols: [{udp: {destinationPort: {range: {start: 1, end: 1024}}}}]}
- {action: Pass, to: [{pods: {podSelector: {}}}], protocols: [{destinationNamedPort: web}]}`),
    );
    expect(errors).toEqual([]);
    expect(warnings).toEqual([]);
    expect(policies.admin[0].egress.map((r) => r.peers?.map((p) => p.type))).toEqual([['domains'], ['nodes', 'cidr'], ['pods']]);
  });
});

const world = `apiVersion: v1
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
---
apiVersion: v1
kind: Node
metadata: {name: infra-1, labels: {role: infra}}
status: {addresses: [{type: InternalIP, address: 192.168.1.10}, {type: Hostname, address: infra-1}]}
---
apiVersion: v1
kind: Node
metadata: {name: worker-1, labels: {role: worker}}
status: {addresses: [{type: InternalIP, address: 192.168.1.20}]}
`;

describe('ClusterNetworkPolicy semantics beyond the conformance suite', () => {
  it('nodes peers match the addresses of the Nodes their selector picks, no others', () => {
    const w = load(
      `${world}---\n${cnp(`tier: Admin\npriority: 1\nsubject: {namespaces: {}}\negress: [{action: Deny, to: [{nodes: {matchLabels: {role: infra}}}]}]`)}`,
    );
    expect(pick(verdict(w, flow('shop/web', '192.168.1.10', 'TCP', 22)))).toEqual(denied);
    expect(pick(verdict(w, flow('shop/web', '192.168.1.20', 'TCP', 22)))).toEqual(allowed);
    expect(pick(verdict(w, flow('shop/web', 'shop/db', 'TCP', 22)))).toEqual(allowed);
  });

  it('several Baseline policies are met by priority; a Baseline Pass goes to the default allow', () => {
    const base = (name: string, priority: number, action: string) =>
      cnp(`tier: Baseline\npriority: ${priority}\nsubject: {namespaces: {}}\ningress: [{name: r, action: ${action}, from: [{namespaces: {}}]}]`, name);
    const two = (a: string, b: string) => load(`${world}---\n${base('first', 1, a)}---\n${base('second', 2, b)}`);
    expect(verdict(two('Deny', 'Accept'), flow('shop/web', 'shop/db', 'TCP', 80))).toMatchObject({
      allowed: false,
      decidedBy: ref('Baseline', 'first', 'ingress[0]', 'r'),
    });
    expect(verdict(two('Accept', 'Deny'), flow('shop/web', 'shop/db', 'TCP', 80))).toMatchObject({
      allowed: true,
      decidedBy: ref('Baseline', 'first', 'ingress[0]', 'r'),
    });
    expect(verdict(two('Pass', 'Deny'), flow('shop/web', 'shop/db', 'TCP', 80))).toMatchObject({ allowed: true, decidedBy: 'default-allow' });
  });

  it('domainNames match no address yet: an Accept through them grants nothing', () => {
    const w = load(`${world}---\n${admin('egress: [{action: Accept, to: [{domainNames: [db.example.com]}]}, {action: Deny, to: [{networks: [0.0.0.0/0]}]}]')}`);
    expect(verdict(w, flow('shop/web', '203.0.113.7', 'TCP', 443))).toMatchObject({ allowed: false, decidedBy: ref('Admin', 'guard', 'egress[1]') });
  });

  it('warns about domainNames outside an Accept rule', () => {
    const { warnings } = check(admin('egress: [{action: Deny, to: [{domainNames: [example.com]}]}]'));
    expect(warnings.map((w) => [w.code, w.path])).toEqual([['POLICY_DOMAIN_NAMES_ACTION', 'spec.egress[0].to[0].domainNames']]);
  });

  it.each([
    ['an Accept rule matches nothing through a peer it cannot read', 'Accept', allowed, 'egress[1]'],
    ['a Deny rule with a peer it cannot read denies everything', 'Deny', denied, 'egress[0]'],
    ['a Pass rule with a peer it cannot read denies everything', 'Pass', denied, 'egress[0]'],
  ])('fails closed: %s', (_name, action, want, rule) => {
    const text = admin(`egress: [{action: ${action}, to: [{serviceAccounts: {name: x}}]}, {action: Accept, to: [{namespaces: {}}]}]`);
    const { errors, warnings } = check(text);
    expect(errors).toEqual([]);
    expect(warnings.map((w) => [w.code, w.path])).toEqual([['POLICY_UNKNOWN_PEER', 'spec.egress[0].to[0]']]);
    const w = load(`${world}---\n${text}`);
    expect(verdict(w, flow('shop/web', 'shop/db', 'TCP', 80))).toMatchObject({ ...want, decidedBy: ref('Admin', 'guard', rule) });
  });

  it('reads a deprecated ANP and BANP as the ClusterNetworkPolicies they translate to, with a warning each', () => {
    const { errors, warnings, policies } = check(`apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: a}
spec: {priority: 3, subject: {namespaces: {}}, ingress: [{action: Allow, from: [{namespaces: {}}]}]}
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec: {subject: {namespaces: {}}, ingress: [{action: Deny, from: [{namespaces: {}}]}]}
`);
    expect(errors).toEqual([]);
    expect(warnings.map((w) => [w.code, w.doc])).toEqual([
      ['POLICY_DEPRECATED_KIND', 2],
      ['POLICY_DEPRECATED_KIND', 3],
    ]);
    expect(policies.admin.map((p) => [p.kind, p.tier, p.name, p.priority, p.ingress[0].action])).toEqual([['ClusterNetworkPolicy', 'Admin', 'a', 3, 'Accept']]);
    expect(policies.baseline.map((p) => [p.kind, p.tier, p.name, p.priority])).toEqual([['ClusterNetworkPolicy', 'Baseline', 'default', 0]]);
  });

  it('one name space for ClusterNetworkPolicies, translated or written', () => {
    const { errors } = check(`${cnp('tier: Baseline\npriority: 1\nsubject: {namespaces: {}}', 'default')}---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec: {subject: {namespaces: {}}}
`);
    expect(errors.map((e) => [e.code, e.doc, e.message])).toEqual([
      ['POLICY_DUPLICATE', 3, 'ClusterNetworkPolicy default (from BaselineAdminNetworkPolicy) is defined twice'],
    ]);
  });
});
