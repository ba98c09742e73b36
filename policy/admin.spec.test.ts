// AdminNetworkPolicy and BaselineAdminNetworkPolicy semantics from the network-policy-api
// specification and its examples (isolate a sensitive namespace, always allow monitoring, delegate
// with Pass, baseline tenant isolation, egress to networks). Verdicts written from the spec.
import { describe, expect, it } from 'vitest';
import { allowed, denied, flow, load, pick, ref, verdict } from './testing/world.ts';

const world = `
apiVersion: v1
kind: Namespace
metadata: {name: sensitive-ns}
---
apiVersion: v1
kind: Namespace
metadata: {name: monitoring-ns}
---
apiVersion: v1
kind: Namespace
metadata: {name: app-a, labels: {tenant: a}}
---
apiVersion: v1
kind: Namespace
metadata: {name: app-b, labels: {tenant: b}}
---
apiVersion: v1
kind: Pod
metadata: {name: vault, namespace: sensitive-ns}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: prometheus, namespace: monitoring-ns}
spec: {template: {metadata: {labels: {app: prometheus}}, spec: {containers: [{name: p, image: p}]}}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: app-a, labels: {app: web}}
spec: {containers: [{name: w, image: w, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: app-b, labels: {app: api}}
`;

const anp = (name: string, priority: number, body: string, annotations = '') => `
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: ${name}${annotations}}
spec:
  priority: ${priority}
${body.replace(/^/gm, '  ')}`;

const banp = (body: string) => `
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
${body.replace(/^/gm, '  ')}`;

const np = (ns: string, name: string, spec: string) => `
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ${name}, namespace: ${ns}}
spec:
${spec.replace(/^/gm, '  ')}`;

const isolateSensitive = anp(
  'isolate-sensitive',
  10,
  `subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: sensitive-ns}}}
ingress: [{name: deny-all, action: Deny, from: [{namespaces: {}}]}]`,
);
const allowMonitoring = (priority: number) =>
  anp(
    'allow-monitoring',
    priority,
    `subject: {namespaces: {}}
ingress: [{name: from-monitoring, action: Allow, from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: monitoring-ns}}}]}]`,
  );
const passFromB = anp(
  'pass-b-to-a',
  5,
  `subject: {namespaces: {matchLabels: {tenant: a}}}
ingress: [{name: pass-b, action: Pass, from: [{namespaces: {matchLabels: {tenant: b}}}]}]`,
);
const tenantBaseline = banp(`subject: {namespaces: {matchExpressions: [{key: tenant, operator: Exists}]}}
ingress: [{name: deny-all, action: Deny, from: [{namespaces: {}}]}]`);
const npAllowB80 = np(
  'app-a',
  'allow-b-80',
  `podSelector: {}
ingress: [{from: [{namespaceSelector: {matchLabels: {tenant: b}}}], ports: [{port: 80}]}]`,
);

describe('AdminNetworkPolicy precedence', () => {
  it.each([
    ['isolate sensitive-ns: others are denied', isolateSensitive, flow('app-a/web', 'sensitive-ns/vault', 'TCP', 443), denied],
    ['isolate sensitive-ns: its own egress is not affected', isolateSensitive, flow('sensitive-ns/vault', 'app-a/web', 'TCP', 8080), allowed],
    [
      'allow monitoring at a higher precedence (9 < 10) wins',
      isolateSensitive + allowMonitoring(9),
      flow('monitoring-ns/prometheus', 'sensitive-ns/vault', 'TCP', 9090),
      allowed,
    ],
    [
      'allow monitoring at a lower precedence (30 > 10) loses',
      isolateSensitive + allowMonitoring(30),
      flow('monitoring-ns/prometheus', 'sensitive-ns/vault', 'TCP', 9090),
      denied,
    ],
    [
      'an ANP Allow overrides a NetworkPolicy deny-all',
      allowMonitoring(9) + np('app-a', 'deny-all', 'podSelector: {}'),
      flow('monitoring-ns/prometheus', 'app-a/web', 'TCP', 8080),
      allowed,
    ],
    [
      'an ANP Deny overrides a NetworkPolicy allow',
      anp(
        'deny-b',
        3,
        `subject: {namespaces: {matchLabels: {tenant: a}}}
ingress: [{action: Deny, from: [{namespaces: {matchLabels: {tenant: b}}}]}]`,
      ) + np('app-a', 'allow-all', 'podSelector: {}\ningress: [{}]'),
      flow('app-b/api', 'app-a/web', 'TCP', 8080),
      denied,
    ],
    [
      'rules in order: an earlier Allow before a Deny-all',
      anp(
        'ordered',
        1,
        `subject: {namespaces: {matchLabels: {tenant: a}}}
ingress:
- {action: Allow, from: [{namespaces: {}}], ports: [{portNumber: {protocol: TCP, port: 80}}]}
- {action: Deny, from: [{namespaces: {}}]}`,
      ),
      flow('app-b/api', 'app-a/web', 'TCP', 80),
      allowed,
    ],
    [
      'rules in order: the Deny-all takes the rest',
      anp(
        'ordered',
        1,
        `subject: {namespaces: {matchLabels: {tenant: a}}}
ingress:
- {action: Allow, from: [{namespaces: {}}], ports: [{portNumber: {protocol: TCP, port: 80}}]}
- {action: Deny, from: [{namespaces: {}}]}`,
      ),
      flow('app-b/api', 'app-a/web', 'TCP', 81),
      denied,
    ],
    [
      'pods subject: only the selected pods',
      anp(
        'web-only',
        1,
        `subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}}
ingress: [{action: Deny, from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: api}}}}]}]`,
      ),
      flow('app-b/api', 'app-a/web', 'TCP', 1),
      denied,
    ],
    [
      'pods subject: other pods untouched',
      anp(
        'web-only',
        1,
        `subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}}
ingress: [{action: Deny, from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: api}}}}]}]`,
      ),
      flow('app-a/web', 'app-b/api', 'TCP', 1),
      allowed,
    ],
  ])('%s', (_name, p, f, want) => expect(pick(verdict(load(world + p), f))).toEqual(want));

  it('names the ANP rule that decided', () => {
    const w = load(world + isolateSensitive + allowMonitoring(9));
    expect(verdict(w, flow('monitoring-ns/prometheus', 'sensitive-ns/vault', 'TCP', 1)).decidedBy).toEqual(
      ref('Admin', 'allow-monitoring', 'ingress[0]', 'from-monitoring'),
    );
    expect(verdict(w, flow('app-a/web', 'sensitive-ns/vault', 'TCP', 1)).decidedBy).toEqual(ref('Admin', 'isolate-sensitive', 'ingress[0]', 'deny-all'));
  });
});

describe('Pass delegates to NetworkPolicy, then the baseline', () => {
  it.each([
    ['passed, and a NetworkPolicy allows TCP 80', passFromB + npAllowB80 + tenantBaseline, flow('app-b/api', 'app-a/web', 'TCP', 80), allowed],
    ['passed, and the NetworkPolicy isolates: TCP 81 denied', passFromB + npAllowB80 + tenantBaseline, flow('app-b/api', 'app-a/web', 'TCP', 81), denied],
    ['passed, no NetworkPolicy: the baseline denies', passFromB + tenantBaseline, flow('app-b/api', 'app-a/web', 'TCP', 80), denied],
    ['passed, no NetworkPolicy, no baseline: default allow', passFromB, flow('app-b/api', 'app-a/web', 'TCP', 80), allowed],
    ['a NetworkPolicy takes precedence over the baseline', npAllowB80 + tenantBaseline, flow('app-b/api', 'app-a/web', 'TCP', 80), allowed],
    ['baseline tenant isolation', tenantBaseline, flow('monitoring-ns/prometheus', 'app-b/api', 'TCP', 80), denied],
    ['baseline: a namespace without the tenant label is not a subject', tenantBaseline, flow('app-b/api', 'monitoring-ns/prometheus', 'TCP', 80), allowed],
    [
      'baseline Allow before Deny',
      banp(`subject: {namespaces: {}}
ingress:
- {action: Allow, from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: monitoring-ns}}}]}
- {action: Deny, from: [{namespaces: {}}]}`),
      flow('monitoring-ns/prometheus', 'app-b/api', 'UDP', 53),
      allowed,
    ],
  ])('%s', (_name, p, f, want) => expect(pick(verdict(load(world + p), f))).toEqual(want));
});

describe('ports and egress peers', () => {
  const egress = anp(
    'egress-dns',
    20,
    `subject: {namespaces: {}}
egress:
- {name: dns, action: Allow, to: [{networks: [8.8.8.8/32, "2001:4860:4860::8888/128"]}], ports: [{portNumber: {protocol: UDP, port: 53}}]}
- {name: no-internet, action: Deny, to: [{networks: [0.0.0.0/0]}]}`,
  );
  const named = anp(
    'named',
    1,
    `subject: {namespaces: {matchLabels: {tenant: a}}}
ingress:
- {action: Allow, from: [{namespaces: {}}], ports: [{namedPort: http}]}
- {action: Deny, from: [{namespaces: {}}]}`,
  );
  const range = anp(
    'range',
    1,
    `subject: {namespaces: {matchLabels: {tenant: a}}}
ingress:
- {action: Deny, from: [{namespaces: {}}], ports: [{portRange: {protocol: TCP, start: 1000, end: 2000}}]}`,
  );
  it.each([
    ['networks: DNS to 8.8.8.8 on UDP 53', egress, flow('app-a/web', '8.8.8.8', 'UDP', 53), allowed],
    ['networks: IPv6 DNS', egress, flow('app-a/web', '2001:4860:4860::8888', 'UDP', 53), allowed],
    ['networks: 8.8.8.8 on TCP 443 falls to the deny', egress, flow('app-a/web', '8.8.8.8', 'TCP', 443), denied],
    ['networks: other internet addresses denied', egress, flow('app-a/web', '1.1.1.1', 'UDP', 53), denied],
    ['networks never match pods', egress, flow('app-a/web', 'app-b/api', 'TCP', 443), allowed],
    ['namedPort resolves to the destination container port', named, flow('app-b/api', 'app-a/web', 'TCP', 8080), allowed],
    ['namedPort: other ports denied', named, flow('app-b/api', 'app-a/web', 'TCP', 80), denied],
    ['portRange: the first port', range, flow('app-b/api', 'app-a/web', 'TCP', 1000), denied],
    ['portRange: the last port', range, flow('app-b/api', 'app-a/web', 'TCP', 2000), denied],
    ['portRange: outside', range, flow('app-b/api', 'app-a/web', 'TCP', 2001), allowed],
    ['portRange: other protocol', range, flow('app-b/api', 'app-a/web', 'UDP', 1500), allowed],
  ])('%s', (_name, p, f, want) => expect(pick(verdict(load(world + p), f))).toEqual(want));
});

describe('weft.dev/mode: audit', () => {
  const audit = ', annotations: {weft.dev/mode: audit}';
  it('an audit NetworkPolicy deny-all allows and reports its isolation', () => {
    const w = load(world + np('app-a', 'deny-all', 'podSelector: {}').replace('namespace: app-a}', `namespace: app-a${audit}}`));
    expect(verdict(w, flow('app-b/api', 'app-a/web', 'TCP', 80))).toEqual({
      allowed: true,
      decidedBy: 'default-allow',
      audit: [ref('NetworkPolicy', 'app-a/deny-all', 'isolation')],
    });
  });
  it('an audit ANP Deny does not change an enforced allow, and is reported', () => {
    const w = load(
      world +
        anp(
          'deny-b',
          1,
          `subject: {namespaces: {matchLabels: {tenant: a}}}
ingress: [{action: Deny, from: [{namespaces: {matchLabels: {tenant: b}}}]}]`,
          audit,
        ) +
        npAllowB80,
    );
    expect(verdict(w, flow('app-b/api', 'app-a/web', 'TCP', 80))).toEqual({
      allowed: true,
      decidedBy: ref('NetworkPolicy', 'app-a/allow-b-80', 'ingress[0]'),
      audit: [ref('Admin', 'deny-b', 'ingress[0]')],
    });
  });
  it('an audit ANP Allow never lifts an enforced deny', () => {
    const w = load(
      world +
        anp(
          'allow-b',
          1,
          `subject: {namespaces: {matchLabels: {tenant: a}}}
ingress: [{action: Allow, from: [{namespaces: {}}]}]`,
          audit,
        ) +
        tenantBaseline,
    );
    expect(verdict(w, flow('app-b/api', 'app-a/web', 'TCP', 80))).toEqual({
      allowed: false,
      decidedBy: ref('Baseline', 'default', 'ingress[0]', 'deny-all'),
      audit: [],
    });
  });
  it('audit reports each side the packet reaches: egress would-deny, then the ingress allow', () => {
    const w = load(world + np('app-b', 'no-egress', 'podSelector: {}\npolicyTypes: [Egress]').replace('namespace: app-b}', `namespace: app-b${audit}}`));
    expect(verdict(w, flow('app-b/api', 'app-a/web', 'TCP', 80)).audit).toEqual([ref('NetworkPolicy', 'app-b/no-egress', 'isolation')]);
  });
});

// The network-policy-api conformance suite's scenarios (conformance/tests: core-integration and
// core-priority), on its own namespaces and pods, written in v1alpha1. Verdicts from the suite's text.
describe('network-policy-api conformance scenarios', () => {
  const houses = ['gryffindor', 'slytherin']
    .map(
      (h) => `
---
apiVersion: v1
kind: Namespace
metadata: {name: network-policy-conformance-${h}, labels: {conformance-house: ${h}}}`,
    )
    .join('');
  const pods = [
    ['gryffindor', 'harry-potter'],
    ['slytherin', 'draco-malfoy'],
  ]
    .flatMap(([h, name]) =>
      [0, 1].map(
        (i) => `
---
apiVersion: v1
kind: Pod
metadata: {name: ${name}-${i}, namespace: network-policy-conformance-${h}, labels: {conformance-house: ${h}}}`,
      ),
    )
    .join('');
  const hogwarts = houses + pods;
  const G = 'network-policy-conformance-gryffindor';
  const S = 'network-policy-conformance-slytherin';
  const toGryffindor = [flow(`${S}/draco-malfoy-0`, `${G}/harry-potter-0`, 'TCP', 80), flow(`${S}/draco-malfoy-1`, `${G}/harry-potter-0`, 'TCP', 8080)];
  const toSlytherin = [flow(`${G}/harry-potter-0`, `${S}/draco-malfoy-0`, 'TCP', 80), flow(`${G}/harry-potter-1`, `${S}/draco-malfoy-0`, 'TCP', 8080)];
  const slytherinPeer =
    '{pods: {namespaceSelector: {matchLabels: {conformance-house: slytherin}}, podSelector: {matchLabels: {conformance-house: slytherin}}}}';
  const gryffindorPods =
    'subject: {pods: {namespaceSelector: {matchLabels: {conformance-house: gryffindor}}, podSelector: {matchLabels: {conformance-house: gryffindor}}}}';

  describe('core integration: ANP, then NetworkPolicy, then BANP', () => {
    const passExample = (ingress: string, egress: string) =>
      anp(
        'pass-example',
        10,
        `subject: {namespaces: {matchLabels: {conformance-house: gryffindor}}}
ingress: [{name: deny-all-ingress-from-slytherin, action: ${ingress}, from: [{namespaces: {matchLabels: {conformance-house: slytherin}}}]}]
egress: [{name: deny-all-egress-to-slytherin, action: ${egress}, to: [{namespaces: {matchLabels: {conformance-house: slytherin}}}]}]`,
      );
    const allowSlytherin = np(
      G,
      'allow-gress-from-to-slytherin-to-gryffindor',
      `podSelector:
policyTypes: [Ingress, Egress]
ingress: [{from: [{namespaceSelector: {matchLabels: {conformance-house: slytherin}}}]}]
egress: [{to: [{namespaceSelector: {matchLabels: {conformance-house: slytherin}}}]}]`,
    );
    const baseline = banp(`subject: {namespaces: {matchLabels: {conformance-house: gryffindor}}}
ingress: [{name: deny-all-ingress-from-slytherin, action: Deny, from: [{namespaces: {matchLabels: {conformance-house: slytherin}}}]}]
egress: [{name: deny-all-egress-to-slytherin, action: Deny, to: [{namespaces: {matchLabels: {conformance-house: slytherin}}}]}]`);
    it.each([
      ['the ANP denies slytherin -> gryffindor over the NetworkPolicy allow', passExample('Deny', 'Deny') + allowSlytherin + baseline, toGryffindor, denied],
      ['the ANP denies gryffindor -> slytherin over the NetworkPolicy allow', passExample('Deny', 'Deny') + allowSlytherin + baseline, toSlytherin, denied],
      ['ingress rule changed to Pass: the NetworkPolicy allow takes effect', passExample('Pass', 'Deny') + allowSlytherin + baseline, toGryffindor, allowed],
      ['egress rule changed to Pass: the NetworkPolicy allow takes effect', passExample('Pass', 'Pass') + allowSlytherin + baseline, toSlytherin, allowed],
      ['NetworkPolicy deleted: the passed ingress meets the BANP deny', passExample('Pass', 'Pass') + baseline, toGryffindor, denied],
      ['NetworkPolicy deleted: the passed egress meets the BANP deny', passExample('Pass', 'Pass') + baseline, toSlytherin, denied],
    ])('%s', (_name, p, flows, want) => {
      const w = load(hogwarts + p);
      for (const f of flows) expect(pick(verdict(w, f)), JSON.stringify(f)).toEqual(want);
    });
  });

  describe('core priority: the lower number wins', () => {
    const deny50 = anp(
      'priority-50-example',
      50,
      `${gryffindorPods}
ingress: [{name: deny-all-ingress-from-slytherin, action: Deny, from: [${slytherinPeer}]}]
egress: [{name: deny-all-egress-to-slytherin, action: Deny, to: [${slytherinPeer}]}]`,
    );
    const pass = (priority: number) =>
      anp(
        'old-priority-60-new-priority-40-example',
        priority,
        `${gryffindorPods}
ingress: [{name: pass-all-ingress-from-slytherin, action: Pass, from: [${slytherinPeer}]}]
egress: [{name: pass-all-egress-to-slytherin, action: Pass, to: [${slytherinPeer}]}]`,
      );
    const baseline = banp(`${gryffindorPods}
ingress: [{name: allow-all-ingress-from-slytherin, action: Allow, from: [${slytherinPeer}]}]
egress: [{name: allow-all-egress-to-slytherin, action: Allow, to: [${slytherinPeer}]}]`);
    it.each([
      ['Deny at 50 before Pass at 60: ingress denied', deny50 + pass(60) + baseline, toGryffindor, denied],
      ['Deny at 50 before Pass at 60: egress denied', deny50 + pass(60) + baseline, toSlytherin, denied],
      ['Pass moved to 40: ingress passed to the BANP allow', deny50 + pass(40) + baseline, toGryffindor, allowed],
      ['Pass moved to 40: egress passed to the BANP allow', deny50 + pass(40) + baseline, toSlytherin, allowed],
    ])('%s', (_name, p, flows, want) => {
      const w = load(hogwarts + p);
      for (const f of flows) expect(pick(verdict(w, f)), JSON.stringify(f)).toEqual(want);
    });

    it('attributes the pass-through to the BANP rule by name and index', () => {
      const w = load(hogwarts + deny50 + pass(40) + baseline);
      expect(verdict(w, toGryffindor[0]).decidedBy).toEqual(ref('Baseline', 'default', 'ingress[0]', 'allow-all-ingress-from-slytherin'));
      expect(verdict(w, toSlytherin[0]).decidedBy).toEqual(ref('Baseline', 'default', 'egress[0]', 'allow-all-egress-to-slytherin'));
    });
  });
});
