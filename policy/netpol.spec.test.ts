// NetworkPolicy semantics from the specification: the Kubernetes documentation's examples
// (concepts/services-networking/network-policies) and the upstream e2e scenarios
// (test/e2e/network/netpol). Expected verdicts are written from the text, not from this code.
import { describe, expect, it } from 'vitest';
import { allowed, denied, flow, load, pick, ref, verdict } from './testing/world.ts';

const pods = `
apiVersion: v1
kind: Namespace
metadata: {name: default}
---
apiVersion: v1
kind: Namespace
metadata: {name: myproject, labels: {project: myproject}}
---
apiVersion: v1
kind: Namespace
metadata: {name: other}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: default, labels: {role: db}}
spec: {containers: [{name: redis, image: redis, ports: [{name: redis, containerPort: 6379}]}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: frontend, namespace: default}
spec: {template: {metadata: {labels: {role: frontend}}, spec: {containers: [{name: web, image: web}]}}}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: myproject}
---
apiVersion: v1
kind: Pod
metadata: {name: frontend, namespace: other, labels: {role: frontend}}
`;

describe('the documentation example test-network-policy', () => {
  const w = load(`${pods}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: test-network-policy, namespace: default}
spec:
  podSelector: {matchLabels: {role: db}}
  policyTypes: [Ingress, Egress]
  ingress:
  - from:
    - ipBlock: {cidr: 172.17.0.0/16, except: [172.17.1.0/24]}
    - namespaceSelector: {matchLabels: {project: myproject}}
    - podSelector: {matchLabels: {role: frontend}}
    ports: [{protocol: TCP, port: 6379}]
  egress:
  - to: [{ipBlock: {cidr: 10.0.0.0/24}}]
    ports: [{protocol: TCP, port: 5978}]
`);
  it.each([
    ['role=frontend in default may reach db on TCP 6379', flow('default/frontend', 'default/db', 'TCP', 6379), allowed],
    ['only the listed port: TCP 6380 is denied', flow('default/frontend', 'default/db', 'TCP', 6380), denied],
    ['only the listed protocol: UDP 6379 is denied', flow('default/frontend', 'default/db', 'UDP', 6379), denied],
    ['any pod of a project=myproject namespace', flow('myproject/client', 'default/db', 'TCP', 6379), allowed],
    ['podSelector alone means the policy namespace: role=frontend elsewhere is denied', flow('other/frontend', 'default/db', 'TCP', 6379), denied],
    ['an address inside the ipBlock', flow('172.17.0.9', 'default/db', 'TCP', 6379), allowed],
    ['an address in the except range', flow('172.17.1.9', 'default/db', 'TCP', 6379), denied],
    ['an address outside the ipBlock', flow('172.18.0.1', 'default/db', 'TCP', 6379), denied],
    ['db egress to 10.0.0.0/24 on TCP 5978', flow('default/db', '10.0.0.17', 'TCP', 5978), allowed],
    ['db egress elsewhere is denied', flow('default/db', '10.0.1.17', 'TCP', 5978), denied],
    ['db egress to a pod is denied (egress isolated, no pod peer)', flow('default/db', 'default/frontend', 'TCP', 5978), denied],
    ['frontend is not selected: its egress is open', flow('default/frontend', '10.9.9.9', 'UDP', 53), allowed],
  ])('%s', (_name, f, want) => expect(pick(verdict(w, f))).toEqual(want));

  it('names the rule that decided, or the isolation', () => {
    expect(verdict(w, flow('myproject/client', 'default/db', 'TCP', 6379)).decidedBy).toEqual(
      ref('NetworkPolicy', 'default/test-network-policy', 'ingress[0]'),
    );
    expect(verdict(w, flow('myproject/client', 'default/db', 'TCP', 80)).decidedBy).toEqual(ref('NetworkPolicy', 'default/test-network-policy', 'isolation'));
    expect(verdict(w, flow('default/frontend', '10.9.9.9', 'UDP', 53)).decidedBy).toBe('default-allow');
  });
});

const policy = (spec: string, ns = 'default', name = 'p') => `
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ${name}, namespace: ${ns}}
spec:
${spec.replace(/^/gm, '  ')}`;

describe('default policies of the documentation', () => {
  it.each([
    [
      'default deny ingress: in-namespace traffic denied',
      policy('podSelector: {}\npolicyTypes: [Ingress]'),
      flow('default/frontend', 'default/db', 'TCP', 6379),
      denied,
    ],
    [
      'default deny ingress: from outside the namespace denied',
      policy('podSelector: {}\npolicyTypes: [Ingress]'),
      flow('myproject/client', 'default/db', 'TCP', 6379),
      denied,
    ],
    ['default deny ingress: egress unaffected', policy('podSelector: {}\npolicyTypes: [Ingress]'), flow('default/db', '8.8.8.8', 'UDP', 53), allowed],
    [
      'default deny ingress: other namespaces unaffected',
      policy('podSelector: {}\npolicyTypes: [Ingress]'),
      flow('default/db', 'myproject/client', 'TCP', 80),
      allowed,
    ],
    [
      'allow all ingress: an empty rule matches everything',
      policy('podSelector: {}\ningress: [{}]\npolicyTypes: [Ingress]'),
      flow('8.8.8.8', 'default/db', 'SCTP', 9),
      allowed,
    ],
    ['default deny egress', policy('podSelector: {}\npolicyTypes: [Egress]'), flow('default/db', '8.8.8.8', 'UDP', 53), denied],
    ['default deny egress: ingress unaffected', policy('podSelector: {}\npolicyTypes: [Egress]'), flow('8.8.8.8', 'default/db', 'TCP', 6379), allowed],
    ['allow all egress', policy('podSelector: {}\negress: [{}]\npolicyTypes: [Egress]'), flow('default/db', '8.8.8.8', 'UDP', 53), allowed],
    ['default deny all: ingress', policy('podSelector: {}\npolicyTypes: [Ingress, Egress]'), flow('myproject/client', 'default/db', 'TCP', 6379), denied],
    ['default deny all: egress', policy('podSelector: {}\npolicyTypes: [Ingress, Egress]'), flow('default/db', 'myproject/client', 'TCP', 80), denied],
    [
      'a deny-all and an allow-all on the same pod: allows add up',
      policy('podSelector: {}\npolicyTypes: [Ingress]') + policy('podSelector: {}\ningress: [{}]', 'default', 'q'),
      flow('other/frontend', 'default/db', 'TCP', 1),
      allowed,
    ],
  ])('%s', (_name, p, f, want) => expect(pick(verdict(load(pods + p), f))).toEqual(want));
});

describe('behaviour of to and from selectors (AND vs OR)', () => {
  const and = policy(`podSelector: {matchLabels: {role: db}}
ingress:
- from:
  - namespaceSelector: {matchLabels: {project: myproject}}
    podSelector: {matchLabels: {role: client}}`);
  const or = policy(`podSelector: {matchLabels: {role: db}}
ingress:
- from:
  - namespaceSelector: {matchLabels: {project: myproject}}
  - podSelector: {matchLabels: {role: client}}`);
  const extra = `
---
apiVersion: v1
kind: Pod
metadata: {name: labelled, namespace: myproject, labels: {role: client}}
---
apiVersion: v1
kind: Pod
metadata: {name: client2, namespace: default, labels: {role: client}}
`;
  it.each([
    ['AND: role=client in project=myproject', and, flow('myproject/labelled', 'default/db', 'TCP', 1), allowed],
    ['AND: unlabelled pod in project=myproject is denied', and, flow('myproject/client', 'default/db', 'TCP', 1), denied],
    ['AND: role=client in the policy namespace is denied', and, flow('default/client2', 'default/db', 'TCP', 1), denied],
    ['OR: any pod in project=myproject', or, flow('myproject/client', 'default/db', 'TCP', 1), allowed],
    ['OR: role=client in the policy namespace', or, flow('default/client2', 'default/db', 'TCP', 1), allowed],
    ['OR: neither is denied', or, flow('other/frontend', 'default/db', 'TCP', 1), denied],
  ])('%s', (_name, p, f, want) => expect(pick(verdict(load(pods + extra + p), f))).toEqual(want));
});

describe('upstream e2e scenarios', () => {
  it.each([
    [
      'allow from namespace by the automatic name label',
      policy(`podSelector: {}
ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: myproject}}}]}]`),
      flow('myproject/client', 'default/db', 'TCP', 80),
      allowed,
    ],
    [
      'allow from namespace by name: others denied',
      policy(`podSelector: {}
ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: myproject}}}]}]`),
      flow('other/frontend', 'default/db', 'TCP', 80),
      denied,
    ],
    [
      'matchExpressions NotIn on namespaces',
      policy(`podSelector: {}
ingress: [{from: [{namespaceSelector: {matchExpressions: [{key: kubernetes.io/metadata.name, operator: NotIn, values: [other]}]}}]}]`),
      flow('myproject/client', 'default/db', 'TCP', 80),
      allowed,
    ],
    [
      'matchExpressions NotIn excludes',
      policy(`podSelector: {}
ingress: [{from: [{namespaceSelector: {matchExpressions: [{key: kubernetes.io/metadata.name, operator: NotIn, values: [other]}]}}]}]`),
      flow('other/frontend', 'default/db', 'TCP', 80),
      denied,
    ],
    [
      'Exists on pod labels',
      policy(`podSelector: {}
ingress: [{from: [{namespaceSelector: {}, podSelector: {matchExpressions: [{key: role, operator: Exists}]}}]}]`),
      flow('other/frontend', 'default/db', 'TCP', 80),
      allowed,
    ],
    [
      'DoesNotExist on pod labels',
      policy(`podSelector: {}
ingress: [{from: [{namespaceSelector: {}, podSelector: {matchExpressions: [{key: role, operator: DoesNotExist}]}}]}]`),
      flow('other/frontend', 'default/db', 'TCP', 80),
      denied,
    ],
    [
      'named port: resolves to the destination container port 6379',
      policy(`podSelector: {matchLabels: {role: db}}
ingress: [{ports: [{port: redis}]}]`),
      flow('other/frontend', 'default/db', 'TCP', 6379),
      allowed,
    ],
    [
      'named port: another port is denied',
      policy(`podSelector: {matchLabels: {role: db}}
ingress: [{ports: [{port: redis}]}]`),
      flow('other/frontend', 'default/db', 'TCP', 6380),
      denied,
    ],
    [
      'named port with the wrong protocol does not match',
      policy(`podSelector: {matchLabels: {role: db}}
ingress: [{ports: [{port: redis, protocol: UDP}]}]`),
      flow('other/frontend', 'default/db', 'UDP', 6379),
      denied,
    ],
    [
      'egress named port resolves against the destination pod',
      policy(`podSelector: {matchLabels: {role: frontend}}
policyTypes: [Egress]
egress: [{ports: [{port: redis}]}]`),
      flow('default/frontend', 'default/db', 'TCP', 6379),
      allowed,
    ],
    [
      'egress named port cannot match an external address',
      policy(`podSelector: {matchLabels: {role: frontend}}
policyTypes: [Egress]
egress: [{ports: [{port: redis}]}]`),
      flow('default/frontend', '8.8.8.8', 'TCP', 6379),
      denied,
    ],
    [
      'endPort: the first port of the range',
      policy(`podSelector: {}
policyTypes: [Egress]
egress: [{to: [{ipBlock: {cidr: 10.0.0.0/24}}], ports: [{protocol: TCP, port: 32000, endPort: 32768}]}]`),
      flow('default/db', '10.0.0.1', 'TCP', 32000),
      allowed,
    ],
    [
      'endPort: the last port of the range',
      policy(`podSelector: {}
policyTypes: [Egress]
egress: [{to: [{ipBlock: {cidr: 10.0.0.0/24}}], ports: [{protocol: TCP, port: 32000, endPort: 32768}]}]`),
      flow('default/db', '10.0.0.1', 'TCP', 32768),
      allowed,
    ],
    [
      'endPort: past the range',
      policy(`podSelector: {}
policyTypes: [Egress]
egress: [{to: [{ipBlock: {cidr: 10.0.0.0/24}}], ports: [{protocol: TCP, port: 32000, endPort: 32768}]}]`),
      flow('default/db', '10.0.0.1', 'TCP', 32769),
      denied,
    ],
    [
      'endPort: before the range',
      policy(`podSelector: {}
policyTypes: [Egress]
egress: [{to: [{ipBlock: {cidr: 10.0.0.0/24}}], ports: [{protocol: TCP, port: 32000, endPort: 32768}]}]`),
      flow('default/db', '10.0.0.1', 'TCP', 31999),
      denied,
    ],
    [
      'egress to DNS on UDP 53 only: DNS allowed',
      policy(`podSelector: {}
policyTypes: [Egress]
egress: [{ports: [{protocol: UDP, port: 53}]}]`),
      flow('default/db', '10.96.0.10', 'UDP', 53),
      allowed,
    ],
    [
      'egress to DNS on UDP 53 only: TCP 53 denied',
      policy(`podSelector: {}
policyTypes: [Egress]
egress: [{ports: [{protocol: UDP, port: 53}]}]`),
      flow('default/db', '10.96.0.10', 'TCP', 53),
      denied,
    ],
    [
      'SCTP port allowed',
      policy(`podSelector: {}
ingress: [{ports: [{protocol: SCTP, port: 80}]}]`),
      flow('myproject/client', 'default/db', 'SCTP', 80),
      allowed,
    ],
    [
      'SCTP rule does not open TCP',
      policy(`podSelector: {}
ingress: [{ports: [{protocol: SCTP, port: 80}]}]`),
      flow('myproject/client', 'default/db', 'TCP', 80),
      denied,
    ],
    [
      'port without number: every port of that protocol',
      policy(`podSelector: {}
ingress: [{ports: [{protocol: UDP}]}]`),
      flow('myproject/client', 'default/db', 'UDP', 4242),
      allowed,
    ],
    [
      'ipBlock never matches a pod, whatever its address',
      policy(`podSelector: {}
ingress: [{from: [{ipBlock: {cidr: 0.0.0.0/0}}]}]`),
      flow('myproject/client', 'default/db', 'TCP', 80),
      denied,
    ],
    [
      'IPv6 ipBlock with except: inside',
      policy(`podSelector: {}
ingress: [{from: [{ipBlock: {cidr: "2001:db8::/32", except: ["2001:db8:1::/48"]}}]}]`),
      flow('2001:db8::1', 'default/db', 'TCP', 80),
      allowed,
    ],
    [
      'IPv6 ipBlock with except: in the except',
      policy(`podSelector: {}
ingress: [{from: [{ipBlock: {cidr: "2001:db8::/32", except: ["2001:db8:1::/48"]}}]}]`),
      flow('2001:db8:1::1', 'default/db', 'TCP', 80),
      denied,
    ],
  ])('%s', (_name, p, f, want) => expect(pick(verdict(load(pods + p), f))).toEqual(want));
});

describe('upstream e2e: both ends decide', () => {
  const serverAllows = policy(`podSelector: {matchLabels: {role: db}}
ingress: [{from: [{namespaceSelector: {}}]}]`);
  const clientDenies = policy(
    `podSelector: {}
policyTypes: [Egress]`,
    'myproject',
    'deny-egress',
  );
  const clientAllowsDbOnly = policy(
    `podSelector: {}
policyTypes: [Egress]
egress: [{to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: default}}, podSelector: {matchLabels: {role: db}}}], ports: [{port: 6379}]}]`,
    'myproject',
    'to-db',
  );
  it.each([
    [
      'denying egress on the client side even if the server explicitly allows it',
      serverAllows + clientDenies,
      flow('myproject/client', 'default/db', 'TCP', 6379),
      denied,
    ],
    ['the server allowing it and the client not isolated', serverAllows, flow('myproject/client', 'default/db', 'TCP', 6379), allowed],
    [
      'egress to a server in another namespace by namespaceSelector and podSelector',
      clientAllowsDbOnly,
      flow('myproject/client', 'default/db', 'TCP', 6379),
      allowed,
    ],
    [
      'egress by namespaceSelector and podSelector: another pod of that namespace is denied',
      clientAllowsDbOnly,
      flow('myproject/client', 'default/frontend', 'TCP', 6379),
      denied,
    ],
    ['egress by namespaceSelector and podSelector: another port is denied', clientAllowsDbOnly, flow('myproject/client', 'default/db', 'TCP', 6380), denied],
  ])('%s', (_name, p, f, want) => expect(pick(verdict(load(pods + p), f))).toEqual(want));

  it("a client-side deny names the client's isolation, before the server is reached", () => {
    const v = verdict(load(pods + serverAllows + clientDenies), flow('myproject/client', 'default/db', 'TCP', 6379));
    expect(v).toEqual({ allowed: false, decidedBy: ref('NetworkPolicy', 'myproject/deny-egress', 'isolation'), audit: [] });
  });
});

describe('policyTypes edge cases', () => {
  it.each([
    [
      'absent, with egress rules: egress is isolated too',
      policy(`podSelector: {}
egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8}}]}]`),
      flow('default/db', '8.8.8.8', 'TCP', 443),
      denied,
    ],
    [
      'absent, with egress rules: the rule allows',
      policy(`podSelector: {}
egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8}}]}]`),
      flow('default/db', '10.1.1.1', 'TCP', 443),
      allowed,
    ],
    [
      'absent, with egress rules: ingress isolated (always implied)',
      policy(`podSelector: {}
egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8}}]}]`),
      flow('myproject/client', 'default/db', 'TCP', 443),
      denied,
    ],
    ['absent, without egress rules: egress open', policy('podSelector: {}'), flow('default/db', '8.8.8.8', 'TCP', 443), allowed],
    [
      'empty list is defaulted like absent: ingress isolated',
      policy('podSelector: {}\npolicyTypes: []'),
      flow('myproject/client', 'default/db', 'TCP', 443),
      denied,
    ],
    [
      'empty list with egress rules: egress isolated too',
      policy(`podSelector: {}
policyTypes: []
egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8}}]}]`),
      flow('default/db', '8.8.8.8', 'TCP', 443),
      denied,
    ],
    [
      '[Ingress] with egress rules: the egress rules are ignored, egress open',
      policy(`podSelector: {}
policyTypes: [Ingress]
egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8}}]}]`),
      flow('default/db', '8.8.8.8', 'TCP', 443),
      allowed,
    ],
    [
      '[Egress] with ingress rules: ingress open',
      policy(`podSelector: {}
policyTypes: [Egress]
ingress: [{from: [{podSelector: {matchLabels: {role: none}}}]}]`),
      flow('myproject/client', 'default/db', 'TCP', 443),
      allowed,
    ],
    [
      '[Egress] with ingress rules: egress deny all',
      policy(`podSelector: {}
policyTypes: [Egress]
ingress: [{from: [{podSelector: {matchLabels: {role: none}}}]}]`),
      flow('default/db', 'myproject/client', 'TCP', 443),
      denied,
    ],
  ])('%s', (_name, p, f, want) => expect(pick(verdict(load(pods + p), f))).toEqual(want));
});
