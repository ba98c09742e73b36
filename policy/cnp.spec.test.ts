// The network-policy-api conformance suite (v0.2.0, ClusterNetworkPolicy v1alpha2), re-expressed:
// its base manifests (conformance/base: the Hogwarts houses, and one ClusterNetworkPolicy set per
// test) as builders, and every scenario of conformance/tests as a table of steps. Each step runs in
// order on the state the earlier steps left (upstream patches the live objects), and each probe is
// one `PokeServer`: the verdict must be upstream's, from the evaluator and the compiled tables alike.
// Pods carry IPs (networks peers match them, as upstream's probes hit pod IPs); the hostNetwork
// `centaur` pods of the node tests are their Nodes' addresses.
import { describe, expect, it } from 'vitest';
import type { Protocol } from './inventory.ts';
import { flow, load, verdict } from './testing/world.ts';

type Obj = Record<string, unknown>;
type House = 'gryffindor' | 'slytherin' | 'hufflepuff' | 'ravenclaw';
type Proto = 'tcp' | 'udp' | 'sctp';

const NS = (h: string) => `network-policy-conformance-${h}`;
const HOUSES: [House, string][] = [
  ['gryffindor', 'harry-potter'],
  ['slytherin', 'draco-malfoy'],
  ['hufflepuff', 'cedric-diggory'],
  ['ravenclaw', 'luna-lovegood'],
];
/** Upstream picks free host ports at run time; any fixed ones do. */
const HNP = [34340, 34341, 34342, 34343, 34344, 34345, 34346, 34347];
const NODE_IPS: Record<string, string> = { 'forbidden-forrest/centaur-0': '192.168.50.10', 'forbidden-forrest/centaur-1': '192.168.50.11' };
const podIp = (pod: string): string => {
  const [ns, name] = pod.split('/');
  return `10.0.${HOUSES.findIndex(([h]) => h === ns) + 1}.${10 + Number(name.slice(-1))}`;
};

/** conformance/base/manifests.yaml: five namespaces, two pods per house (named ports web 80/TCP, dns 53/UDP), and the nodes. */
function baseWorld(): Obj[] {
  const out: Obj[] = [];
  for (const h of [...HOUSES.map(([h]) => h), 'forbidden-forrest'])
    out.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS(h), labels: { 'conformance-house': h } } });
  for (const [h, name] of HOUSES)
    for (const i of [0, 1])
      out.push({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `${name}-${i}`, namespace: NS(h), labels: { 'conformance-house': h } },
        spec: {
          containers: [
            { name: `${name}-80`, ports: [{ containerPort: 80, protocol: 'TCP', name: 'web' }] },
            { name: `${name}-53`, ports: [{ containerPort: 53, protocol: 'UDP', name: 'dns' }] },
          ],
        },
        status: { podIPs: [{ ip: podIp(`${h}/${name}-${i}`) }] },
      });
  for (const i of [0, 1])
    out.push({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: `node-${i}`, labels: { 'kubernetes.io/os': 'linux' } },
      status: {
        addresses: [
          { type: 'InternalIP', address: NODE_IPS[`forbidden-forrest/centaur-${i}`] },
          { type: 'Hostname', address: `node-${i}` },
        ],
      },
    });
  return out;
}

const byName = (h: string) => ({ namespaces: { matchLabels: { 'kubernetes.io/metadata.name': NS(h) } } });
const byHouse = (h: string) => ({ namespaces: { matchLabels: { 'conformance-house': h } } });
const podsOf = (h: string) => ({
  pods: { namespaceSelector: { matchLabels: { 'conformance-house': h } }, podSelector: { matchLabels: { 'conformance-house': h } } },
});
const port = (p: Proto, n: number) => ({ [p]: { destinationPort: { number: n } } });
const ALL_INTERNET = { networks: ['0.0.0.0/0', '::/0'] };

function cnp(name: string, tier: 'Admin' | 'Baseline', priority: number, subject: Obj, rules: { ingress?: Obj[]; egress?: Obj[] }): Obj {
  return { apiVersion: 'policy.networking.k8s.io/v1alpha2', kind: 'ClusterNetworkPolicy', metadata: { name }, spec: { tier, priority, subject, ...rules } };
}

/**
 * The rule list every protocol test shares: Accept, Deny, Pass everything for one house (Pass in the
 * Admin tier only), Deny then Pass (Admin) some ports of a second, Accept some ports of a third and
 * Deny the rest of it.
 */
function ladder(dir: 'ingress' | 'egress', admin: boolean, all: House, deny: [House, Obj[]], allow: [House, Obj[]]): Obj[] {
  const peers = dir === 'ingress' ? 'from' : 'to';
  const rule = (name: string, action: string, h: House, protocols?: Obj[]) => ({
    name: `${name}-${peers}-${h}`,
    action,
    [peers]: [byName(h)],
    ...(protocols && { protocols }),
  });
  return [
    rule('allow', 'Accept', all),
    rule('deny', 'Deny', all),
    ...(admin ? [rule('pass', 'Pass', all)] : []),
    rule('deny-ports', 'Deny', deny[0], deny[1]),
    ...(admin ? [rule('pass-ports', 'Pass', deny[0], deny[1])] : []),
    rule('allow-ports', 'Accept', allow[0], allow[1]),
    rule('deny-rest', 'Deny', allow[0]),
  ];
}

const TRIPLE_DENY = [port('tcp', 80), port('udp', 53), port('sctp', 9003)];

/** The conformance/base policy files, by path under base/. */
function manifests(path: string): Obj[] {
  const tier = path.startsWith('admin_tier') ? 'Admin' : 'Baseline';
  const admin = tier === 'Admin';
  const one = (name: string, priority: number, subject: House, dir: 'ingress' | 'egress', all: House, deny: [House, Obj[]], allow: [House, Obj[]]) => [
    cnp(admin ? name : 'default', tier, admin ? priority : 10, byName(subject), { [dir]: ladder(dir, admin, all, deny, allow) }),
  ];
  switch (path.replace(/^(admin|baseline)_tier\//, '')) {
    case 'standard-egress-tcp-rules':
      return one('egress-tcp', 6, 'gryffindor', 'egress', 'ravenclaw', ['slytherin', [port('tcp', 80)]], ['hufflepuff', [port('tcp', 8080)]]);
    case 'standard-egress-udp-rules':
      return one('egress-udp', 7, 'hufflepuff', 'egress', 'ravenclaw', ['slytherin', [port('udp', 5353)]], ['gryffindor', [port('udp', 53)]]);
    case 'standard-egress-sctp-rules':
      return one('egress-sctp', 8, 'ravenclaw', 'egress', 'gryffindor', ['slytherin', [port('sctp', 9003)]], ['hufflepuff', [port('sctp', 9003)]]);
    case 'standard-ingress-tcp-rules':
      return one('ingress-tcp', 3, 'gryffindor', 'ingress', 'ravenclaw', ['slytherin', [port('tcp', 80)]], ['hufflepuff', [port('tcp', 80)]]);
    case 'standard-ingress-udp-rules':
      return one('ingress-udp', 4, 'hufflepuff', 'ingress', 'ravenclaw', ['slytherin', [port('udp', 5353)]], ['gryffindor', [port('udp', 53)]]);
    case 'standard-ingress-sctp-rules':
      return one('ingress-sctp', 5, 'ravenclaw', 'ingress', 'gryffindor', ['slytherin', [port('sctp', 9003)]], ['hufflepuff', [port('sctp', 9003)]]);
    case 'standard-gress-rules-combined':
      return [
        cnp(admin ? 'gress-rules' : 'default', tier, admin ? 15 : 10, byName('gryffindor'), {
          egress: ladder('egress', admin, 'ravenclaw', ['slytherin', TRIPLE_DENY], ['hufflepuff', [port('tcp', 8080), port('udp', 5353), port('sctp', 9003)]]),
          ingress: ladder('ingress', admin, 'ravenclaw', ['slytherin', TRIPLE_DENY], ['hufflepuff', [port('tcp', 80), port('udp', 5353), port('sctp', 9003)]]),
        }),
      ];
    case 'standard-egress-inline-cidr-rules':
      return [
        cnp(admin ? 'inline-cidr-as-peers-example' : 'default', tier, admin ? 85 : 10, admin ? podsOf('gryffindor') : byName('gryffindor'), {
          egress: [
            { name: 'allow-egress-to-slytherin', action: 'Accept', to: [podsOf('slytherin')] },
            { name: 'deny-egress-to-internet', action: 'Deny', to: [ALL_INTERNET] },
          ],
        }),
      ];
    case 'experimental-egress-selector-rules': {
      const nodes = { nodes: { matchLabels: { 'kubernetes.io/os': 'linux' } } };
      return admin
        ? [
            cnp('node-and-cidr-as-peers-example', 'Admin', 75, podsOf('gryffindor'), {
              egress: [
                { name: `allow-egress-to-${HNP[0]}-on-nodes`, action: 'Accept', to: [nodes], protocols: [port('tcp', HNP[0])] },
                { name: `pass-egress-to-${HNP[2]}-on-nodes`, action: 'Pass', to: [nodes], protocols: [port('udp', HNP[2])] },
                { name: 'deny-egress-to-slytherin-and-nodes-and-internet', action: 'Deny', to: [podsOf('slytherin'), nodes, ALL_INTERNET] },
              ],
            }),
          ]
        : [
            cnp('default', 'Baseline', 10, byName('gryffindor'), {
              egress: [
                {
                  name: `allow-egress-to-${HNP[0]}-on-nodes`,
                  action: 'Accept',
                  to: [nodes],
                  protocols: [{ tcp: { destinationPort: { range: { start: HNP[0], end: HNP[1] } } } }],
                },
                { name: 'deny-egress-to-nodes-and-internet', action: 'Deny', to: [nodes, ALL_INTERNET] },
              ],
            }),
          ];
    }
    case 'standard-priority-field': {
      const gress = (action: string, verb: string) => ({
        ingress: [{ name: `${verb}-all-ingress-from-slytherin`, action, from: [podsOf('slytherin')] }],
        egress: [{ name: `${verb}-all-egress-to-slytherin`, action, to: [podsOf('slytherin')] }],
      });
      return [
        cnp('priority-50-example', 'Admin', 50, podsOf('gryffindor'), gress('Deny', 'deny')),
        cnp('old-priority-60-new-priority-40-example', 'Admin', 60, podsOf('gryffindor'), gress('Pass', 'pass')),
        cnp('default', 'Baseline', 10, podsOf('gryffindor'), gress('Accept', 'allow')),
      ];
    }
    case 'api_integration/standard-anp-np-banp': {
      // A function: each policy gets its own rules, so patching one leaves the other alone.
      const gress = () => ({
        ingress: [{ name: 'deny-all-ingress-from-slytherin', action: 'Deny', from: [byHouse('slytherin')] }],
        egress: [{ name: 'deny-all-egress-to-slytherin', action: 'Deny', to: [byHouse('slytherin')] }],
      });
      return [
        cnp('pass-example', 'Admin', 10, byHouse('gryffindor'), gress()),
        {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          metadata: { name: 'allow-gress-from-to-slytherin-to-gryffindor', namespace: NS('gryffindor') },
          spec: {
            podSelector: null,
            policyTypes: ['Ingress', 'Egress'],
            ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'conformance-house': 'slytherin' } } }] }],
            egress: [{ to: [{ namespaceSelector: { matchLabels: { 'conformance-house': 'slytherin' } } }] }],
          },
        },
        cnp('default', 'Baseline', 10, byHouse('gryffindor'), gress()),
      ];
    }
  }
  throw new Error(`no manifests for ${path}`);
}

/** One step's actions, in order: a probe, or a patch of the live objects. */
type Op = { probe: [src: string, protocol: Protocol, dst: string, port: number, allowed: boolean] } | { patch: string; apply: (objects: Obj[]) => void };

const p = (src: string, protocol: Protocol, dst: string, port: number, allowed: boolean): Op => ({
  probe: [`${NS(src.split('/')[0])}/${src.split('/')[1]}`, protocol, dst.includes('.') ? dst : `${NS(dst.split('/')[0])}/${dst.split('/')[1]}`, port, allowed],
});
const node = (pod: string) => NODE_IPS[pod];
const policy = (objects: Obj[], name: string) => objects.find((o) => o.kind === 'ClusterNetworkPolicy' && (o.metadata as Obj).name === name) as { spec: Obj };
const rulesOf = (objects: Obj[], name: string, dir: string) => policy(objects, name).spec[dir] as Obj[];
const swap = (name: string, dir: string, a: number, b: number): Op => ({
  patch: `${name}: swap ${dir}[${a}] and ${dir}[${b}]`,
  apply: (o) => {
    const r = rulesOf(o, name, dir);
    [r[a], r[b]] = [r[b], r[a]];
  },
});
const namedPort = (name: string, dir: string, i: number, portName: string): Op => ({
  patch: `${name}: ${dir}[${i}] on named port ${portName}`,
  apply: (o) => {
    rulesOf(o, name, dir)[i].protocols = [{ destinationNamedPort: portName }];
  },
});
const priority = (name: string, n: number): Op => ({
  patch: `${name}: priority ${n}`,
  apply: (o) => {
    policy(o, name).spec.priority = n;
  },
});
const action = (name: string, dir: string, i: number, a: string): Op => ({
  patch: `${name}: ${dir}[${i}] action ${a}`,
  apply: (o) => {
    rulesOf(o, name, dir)[i].action = a;
  },
});
const houseLabel = (house: string, label: string): Op => ({
  patch: `namespace ${house}: conformance-house=${label}`,
  apply: (o) => {
    const ns = o.find((x) => x.kind === 'Namespace' && (x.metadata as Obj).name === NS(house)) as { metadata: Obj };
    ns.metadata.labels = { 'conformance-house': label };
  },
});
const allowPodIps = (name: string, pods: string[]): Op => ({
  patch: `${name}: first an egress Accept to the IPs of ${pods.join(', ')}`,
  apply: (o) => {
    const r = rulesOf(o, name, 'egress');
    r.unshift({ name: 'allow-egress-to-specific-podIPs', action: 'Accept', to: [{ networks: pods.map((x) => `${podIp(x)}/32`) }] });
  },
});
const deleteNetworkPolicies = (): Op => ({
  patch: 'delete the NetworkPolicy',
  apply: (o) => {
    o.splice(0, o.length, ...o.filter((x) => x.kind !== 'NetworkPolicy'));
  },
});

interface Scenario {
  test: string;
  manifests: string;
  steps: [string, Op[]][];
}

const SCENARIOS: Scenario[] = [
  {
    test: 'CNPAdminTierEgressNamedPort',
    manifests: 'admin_tier/standard-egress-tcp-rules',
    steps: [
      [
        "Should support an 'allow-egress' policy for named port",
        [
          namedPort('egress-tcp', 'egress', 5, 'web'),
          p('gryffindor/harry-potter-0', 'TCP', 'hufflepuff/cedric-diggory-1', 80, true),
          p('gryffindor/harry-potter-1', 'TCP', 'hufflepuff/cedric-diggory-1', 8080, false),
        ],
      ],
    ],
  },
  {
    test: 'CNPAdminTierEgressNodePeers',
    manifests: 'admin_tier/experimental-egress-selector-rules',
    steps: [
      [
        "Should support an 'allow-egress' rule policy for egress-node-peer",
        [p('gryffindor/harry-potter-1', 'TCP', node('forbidden-forrest/centaur-1'), HNP[0], true)],
      ],
      [
        "Should support a 'pass-egress' rule policy for egress-node-peer",
        [p('gryffindor/harry-potter-1', 'UDP', node('forbidden-forrest/centaur-1'), HNP[2], true)],
      ],
      [
        "Should support a 'deny-egress' rule policy for egress-node-peer",
        [
          p('gryffindor/harry-potter-1', 'TCP', node('forbidden-forrest/centaur-1'), HNP[1], false),
          p('gryffindor/harry-potter-1', 'UDP', node('forbidden-forrest/centaur-1'), HNP[4], false),
          p('gryffindor/harry-potter-1', 'SCTP', node('forbidden-forrest/centaur-1'), HNP[6], false),
        ],
      ],
    ],
  },
  {
    test: 'CNPAdminTierIngressNamedPort',
    manifests: 'admin_tier/standard-ingress-udp-rules',
    steps: [
      [
        "Should support an 'allow-ingress' policy for named port",
        [
          namedPort('ingress-udp', 'ingress', 5, 'dns'),
          p('gryffindor/harry-potter-0', 'UDP', 'hufflepuff/cedric-diggory-1', 53, true),
          p('gryffindor/harry-potter-1', 'UDP', 'hufflepuff/cedric-diggory-1', 5353, false),
        ],
      ],
    ],
  },
  {
    test: 'CNPAdminTierEgressInlineCIDRPeers',
    manifests: 'admin_tier/standard-egress-inline-cidr-rules',
    steps: [
      [
        "Should support a 'deny-egress' rule policy for egress-cidr-peer",
        [
          p('gryffindor/harry-potter-1', 'TCP', 'ravenclaw/luna-lovegood-0', 80, false),
          p('gryffindor/harry-potter-1', 'UDP', 'ravenclaw/luna-lovegood-0', 53, false),
          p('gryffindor/harry-potter-1', 'SCTP', 'ravenclaw/luna-lovegood-0', 9003, false),
          p('gryffindor/harry-potter-1', 'TCP', 'hufflepuff/cedric-diggory-0', 80, false),
          p('gryffindor/harry-potter-1', 'UDP', 'hufflepuff/cedric-diggory-0', 53, false),
          p('gryffindor/harry-potter-1', 'SCTP', 'hufflepuff/cedric-diggory-0', 9003, false),
          p('gryffindor/harry-potter-1', 'TCP', 'slytherin/draco-malfoy-0', 80, true),
          p('gryffindor/harry-potter-1', 'UDP', 'slytherin/draco-malfoy-0', 53, true),
          p('gryffindor/harry-potter-1', 'SCTP', 'slytherin/draco-malfoy-0', 9003, true),
          houseLabel('slytherin', 'denied-namespace-label'),
          p('gryffindor/harry-potter-1', 'TCP', 'slytherin/draco-malfoy-0', 80, false),
          p('gryffindor/harry-potter-1', 'UDP', 'slytherin/draco-malfoy-0', 53, false),
          p('gryffindor/harry-potter-1', 'SCTP', 'slytherin/draco-malfoy-0', 9003, false),
          houseLabel('slytherin', 'slytherin'),
          p('gryffindor/harry-potter-1', 'TCP', 'slytherin/draco-malfoy-0', 80, true),
          p('gryffindor/harry-potter-1', 'UDP', 'slytherin/draco-malfoy-0', 53, true),
          p('gryffindor/harry-potter-1', 'SCTP', 'slytherin/draco-malfoy-0', 9003, true),
        ],
      ],
      [
        "Should support an 'allow-egress' rule policy for egress-cidr-peer",
        [
          allowPodIps('inline-cidr-as-peers-example', ['ravenclaw/luna-lovegood-0', 'hufflepuff/cedric-diggory-0']),
          p('gryffindor/harry-potter-1', 'TCP', 'ravenclaw/luna-lovegood-0', 80, true),
          p('gryffindor/harry-potter-1', 'UDP', 'ravenclaw/luna-lovegood-0', 53, true),
          p('gryffindor/harry-potter-1', 'SCTP', 'ravenclaw/luna-lovegood-0', 9003, true),
          p('gryffindor/harry-potter-1', 'TCP', 'hufflepuff/cedric-diggory-0', 80, true),
          p('gryffindor/harry-potter-1', 'UDP', 'hufflepuff/cedric-diggory-0', 53, true),
          p('gryffindor/harry-potter-1', 'SCTP', 'hufflepuff/cedric-diggory-0', 9003, true),
          p('gryffindor/harry-potter-1', 'TCP', 'ravenclaw/luna-lovegood-1', 80, false),
          p('gryffindor/harry-potter-1', 'UDP', 'ravenclaw/luna-lovegood-1', 53, false),
          p('gryffindor/harry-potter-1', 'SCTP', 'ravenclaw/luna-lovegood-1', 9003, false),
          p('gryffindor/harry-potter-1', 'TCP', 'hufflepuff/cedric-diggory-1', 80, false),
          p('gryffindor/harry-potter-1', 'UDP', 'hufflepuff/cedric-diggory-1', 53, false),
          p('gryffindor/harry-potter-1', 'SCTP', 'hufflepuff/cedric-diggory-1', 9003, false),
        ],
      ],
    ],
  },
  {
    test: 'CNPAdminTierEgressSCTP',
    manifests: 'admin_tier/standard-egress-sctp-rules',
    steps: [
      [
        "Should support an 'allow-egress' policy for SCTP protocol; ensure rule ordering is respected",
        [
          p('ravenclaw/luna-lovegood-0', 'SCTP', 'gryffindor/harry-potter-0', 9003, true),
          p('ravenclaw/luna-lovegood-1', 'SCTP', 'gryffindor/harry-potter-0', 9005, true),
        ],
      ],
      [
        "Should support an 'allow-egress' policy for SCTP protocol at the specified port",
        [
          p('ravenclaw/luna-lovegood-0', 'SCTP', 'hufflepuff/cedric-diggory-1', 9003, true),
          p('ravenclaw/luna-lovegood-1', 'SCTP', 'hufflepuff/cedric-diggory-1', 9005, false),
        ],
      ],
      [
        "Should support an 'deny-egress' policy for SCTP protocol; ensure rule ordering is respected",
        [
          swap('egress-sctp', 'egress', 0, 1),
          p('ravenclaw/luna-lovegood-0', 'SCTP', 'gryffindor/harry-potter-1', 9003, false),
          p('ravenclaw/luna-lovegood-1', 'SCTP', 'gryffindor/harry-potter-1', 9005, false),
        ],
      ],
      [
        "Should support a 'deny-egress' policy for SCTP protocol at the specified port",
        [
          p('ravenclaw/luna-lovegood-0', 'SCTP', 'slytherin/draco-malfoy-0', 9003, false),
          p('ravenclaw/luna-lovegood-1', 'SCTP', 'slytherin/draco-malfoy-0', 9005, true),
        ],
      ],
      [
        "Should support an 'pass-egress' policy for SCTP protocol; ensure rule ordering is respected",
        [
          swap('egress-sctp', 'egress', 0, 2),
          p('ravenclaw/luna-lovegood-0', 'SCTP', 'gryffindor/harry-potter-1', 9003, true),
          p('ravenclaw/luna-lovegood-1', 'SCTP', 'gryffindor/harry-potter-1', 9005, true),
        ],
      ],
      [
        "Should support a 'pass-egress' policy for SCTP protocol at the specified port",
        [
          swap('egress-sctp', 'egress', 3, 4),
          p('ravenclaw/luna-lovegood-0', 'SCTP', 'slytherin/draco-malfoy-0', 9003, true),
          p('ravenclaw/luna-lovegood-1', 'SCTP', 'slytherin/draco-malfoy-0', 9005, true),
        ],
      ],
    ],
  },
  {
    test: 'CNPAdminTierEgressTCP',
    manifests: 'admin_tier/standard-egress-tcp-rules',
    steps: [
      [
        "Should support an 'allow-egress' policy for TCP protocol; ensure rule ordering is respected",
        [
          p('gryffindor/harry-potter-0', 'TCP', 'ravenclaw/luna-lovegood-0', 80, true),
          p('gryffindor/harry-potter-1', 'TCP', 'ravenclaw/luna-lovegood-0', 8080, true),
        ],
      ],
      [
        "Should support an 'allow-egress' policy for TCP protocol at the specified port",
        [
          p('gryffindor/harry-potter-0', 'TCP', 'hufflepuff/cedric-diggory-1', 8080, true),
          p('gryffindor/harry-potter-1', 'TCP', 'hufflepuff/cedric-diggory-1', 80, false),
        ],
      ],
      [
        "Should support an 'deny-egress' policy for TCP protocol; ensure rule ordering is respected",
        [
          swap('egress-tcp', 'egress', 0, 1),
          p('gryffindor/harry-potter-0', 'TCP', 'ravenclaw/luna-lovegood-1', 80, false),
          p('gryffindor/harry-potter-1', 'TCP', 'ravenclaw/luna-lovegood-1', 8080, false),
        ],
      ],
      [
        "Should support a 'deny-egress' policy for TCP protocol at the specified port",
        [
          p('gryffindor/harry-potter-0', 'TCP', 'slytherin/draco-malfoy-0', 80, false),
          p('gryffindor/harry-potter-1', 'TCP', 'slytherin/draco-malfoy-0', 8080, true),
        ],
      ],
      [
        "Should support an 'pass-egress' policy for TCP protocol; ensure rule ordering is respected",
        [
          swap('egress-tcp', 'egress', 0, 2),
          p('gryffindor/harry-potter-0', 'TCP', 'ravenclaw/luna-lovegood-0', 80, true),
          p('gryffindor/harry-potter-1', 'TCP', 'ravenclaw/luna-lovegood-0', 8080, true),
        ],
      ],
      [
        "Should support a 'pass-egress' policy for TCP protocol at the specified port",
        [
          swap('egress-tcp', 'egress', 3, 4),
          p('gryffindor/harry-potter-0', 'TCP', 'slytherin/draco-malfoy-0', 80, true),
          p('gryffindor/harry-potter-1', 'TCP', 'slytherin/draco-malfoy-0', 8080, true),
        ],
      ],
    ],
  },
  {
    test: 'CNPAdminTierEgressUDP',
    manifests: 'admin_tier/standard-egress-udp-rules',
    steps: [
      [
        "Should support an 'allow-egress' policy for UDP protocol; ensure rule ordering is respected",
        [
          p('hufflepuff/cedric-diggory-0', 'UDP', 'ravenclaw/luna-lovegood-0', 53, true),
          p('hufflepuff/cedric-diggory-1', 'UDP', 'ravenclaw/luna-lovegood-0', 5353, true),
        ],
      ],
      [
        "Should support an 'allow-egress' policy for UDP protocol at the specified port",
        [
          p('hufflepuff/cedric-diggory-0', 'UDP', 'gryffindor/harry-potter-1', 53, true),
          p('hufflepuff/cedric-diggory-1', 'UDP', 'gryffindor/harry-potter-1', 5353, false),
        ],
      ],
      [
        "Should support an 'deny-egress' policy for UDP protocol; ensure rule ordering is respected",
        [
          swap('egress-udp', 'egress', 0, 1),
          p('hufflepuff/cedric-diggory-0', 'UDP', 'ravenclaw/luna-lovegood-1', 53, false),
          p('hufflepuff/cedric-diggory-1', 'UDP', 'ravenclaw/luna-lovegood-1', 5353, false),
        ],
      ],
      [
        "Should support a 'deny-egress' policy for UDP protocol at the specified port",
        [
          p('hufflepuff/cedric-diggory-0', 'UDP', 'slytherin/draco-malfoy-0', 5353, false),
          p('hufflepuff/cedric-diggory-1', 'UDP', 'slytherin/draco-malfoy-0', 53, true),
        ],
      ],
      [
        "Should support an 'pass-egress' policy for UDP protocol; ensure rule ordering is respected",
        [
          swap('egress-udp', 'egress', 0, 2),
          p('hufflepuff/cedric-diggory-0', 'UDP', 'ravenclaw/luna-lovegood-1', 5353, true),
          p('hufflepuff/cedric-diggory-1', 'UDP', 'ravenclaw/luna-lovegood-1', 53, true),
        ],
      ],
      [
        "Should support a 'pass-egress' policy for UDP protocol at the specified port",
        [
          swap('egress-udp', 'egress', 3, 4),
          p('hufflepuff/cedric-diggory-0', 'UDP', 'slytherin/draco-malfoy-0', 5353, true),
          p('hufflepuff/cedric-diggory-1', 'UDP', 'slytherin/draco-malfoy-0', 53, true),
        ],
      ],
    ],
  },
  {
    test: 'CNPAdminTierGress',
    manifests: 'admin_tier/standard-gress-rules-combined',
    steps: [
      [
        "Should support an 'allow-gress' policy across different protocols",
        [
          p('gryffindor/harry-potter-0', 'TCP', 'ravenclaw/luna-lovegood-0', 80, true),
          p('gryffindor/harry-potter-1', 'UDP', 'ravenclaw/luna-lovegood-0', 53, true),
          p('gryffindor/harry-potter-0', 'SCTP', 'ravenclaw/luna-lovegood-0', 9003, true),
          p('ravenclaw/luna-lovegood-0', 'TCP', 'gryffindor/harry-potter-0', 80, true),
          p('ravenclaw/luna-lovegood-1', 'UDP', 'gryffindor/harry-potter-0', 53, true),
          p('ravenclaw/luna-lovegood-1', 'SCTP', 'gryffindor/harry-potter-0', 9003, true),
        ],
      ],
      [
        "Should support an 'allow-gress' policy across different protocols at the specified ports",
        [
          p('gryffindor/harry-potter-0', 'TCP', 'hufflepuff/cedric-diggory-1', 8080, true),
          p('gryffindor/harry-potter-1', 'TCP', 'hufflepuff/cedric-diggory-1', 80, false),
          p('gryffindor/harry-potter-0', 'UDP', 'hufflepuff/cedric-diggory-1', 5353, true),
          p('gryffindor/harry-potter-1', 'UDP', 'hufflepuff/cedric-diggory-1', 53, false),
          p('gryffindor/harry-potter-0', 'SCTP', 'hufflepuff/cedric-diggory-1', 9003, true),
          p('gryffindor/harry-potter-1', 'SCTP', 'hufflepuff/cedric-diggory-1', 9005, false),
          p('hufflepuff/cedric-diggory-0', 'TCP', 'gryffindor/harry-potter-1', 80, true),
          p('hufflepuff/cedric-diggory-1', 'TCP', 'gryffindor/harry-potter-1', 8080, false),
          p('hufflepuff/cedric-diggory-0', 'UDP', 'gryffindor/harry-potter-1', 5353, true),
          p('hufflepuff/cedric-diggory-1', 'UDP', 'gryffindor/harry-potter-1', 53, false),
          p('hufflepuff/cedric-diggory-0', 'SCTP', 'gryffindor/harry-potter-1', 9003, true),
          p('hufflepuff/cedric-diggory-1', 'SCTP', 'gryffindor/harry-potter-1', 9005, false),
        ],
      ],
      [
        "Should support an 'deny-gress' policy across different protocols",
        [
          swap('gress-rules', 'egress', 0, 1),
          swap('gress-rules', 'ingress', 0, 1),
          p('gryffindor/harry-potter-0', 'TCP', 'ravenclaw/luna-lovegood-1', 80, false),
          p('gryffindor/harry-potter-1', 'UDP', 'ravenclaw/luna-lovegood-1', 53, false),
          p('gryffindor/harry-potter-0', 'SCTP', 'ravenclaw/luna-lovegood-1', 9003, false),
          p('ravenclaw/luna-lovegood-0', 'TCP', 'gryffindor/harry-potter-1', 80, false),
          p('ravenclaw/luna-lovegood-1', 'UDP', 'gryffindor/harry-potter-1', 53, false),
          p('ravenclaw/luna-lovegood-1', 'SCTP', 'gryffindor/harry-potter-1', 9003, false),
        ],
      ],
      [
        "Should support a 'deny-gress' policy across different protocols at the specified ports",
        [
          p('gryffindor/harry-potter-0', 'TCP', 'slytherin/draco-malfoy-0', 80, false),
          p('gryffindor/harry-potter-1', 'TCP', 'slytherin/draco-malfoy-0', 8080, true),
          p('gryffindor/harry-potter-0', 'UDP', 'slytherin/draco-malfoy-0', 53, false),
          p('gryffindor/harry-potter-1', 'UDP', 'slytherin/draco-malfoy-0', 5353, true),
          p('gryffindor/harry-potter-0', 'SCTP', 'slytherin/draco-malfoy-0', 9003, false),
          p('gryffindor/harry-potter-1', 'SCTP', 'slytherin/draco-malfoy-0', 9005, true),
          p('slytherin/draco-malfoy-0', 'TCP', 'gryffindor/harry-potter-0', 80, false),
          p('slytherin/draco-malfoy-1', 'TCP', 'gryffindor/harry-potter-0', 8080, true),
          p('slytherin/draco-malfoy-0', 'UDP', 'gryffindor/harry-potter-0', 53, false),
          p('slytherin/draco-malfoy-1', 'UDP', 'gryffindor/harry-potter-0', 5353, true),
          p('slytherin/draco-malfoy-0', 'SCTP', 'gryffindor/harry-potter-0', 9003, false),
          p('slytherin/draco-malfoy-1', 'SCTP', 'gryffindor/harry-potter-0', 9005, true),
        ],
      ],
      [
        "Should support an 'pass-gress' policy across different protocols",
        [
          swap('gress-rules', 'egress', 0, 2),
          swap('gress-rules', 'ingress', 0, 2),
          p('gryffindor/harry-potter-0', 'TCP', 'ravenclaw/luna-lovegood-0', 80, true),
          p('gryffindor/harry-potter-0', 'UDP', 'ravenclaw/luna-lovegood-0', 5353, true),
          p('gryffindor/harry-potter-0', 'SCTP', 'ravenclaw/luna-lovegood-0', 9003, true),
          p('ravenclaw/luna-lovegood-0', 'TCP', 'gryffindor/harry-potter-0', 80, true),
          p('ravenclaw/luna-lovegood-1', 'UDP', 'gryffindor/harry-potter-0', 53, true),
          p('ravenclaw/luna-lovegood-1', 'SCTP', 'gryffindor/harry-potter-0', 9003, true),
        ],
      ],
      [
        "Should support a 'pass-gress' policy across different protocols at the specified ports",
        [
          swap('gress-rules', 'egress', 3, 4),
          swap('gress-rules', 'ingress', 3, 4),
          p('gryffindor/harry-potter-0', 'TCP', 'slytherin/draco-malfoy-0', 80, true),
          p('gryffindor/harry-potter-1', 'TCP', 'slytherin/draco-malfoy-0', 8080, true),
          p('gryffindor/harry-potter-0', 'UDP', 'slytherin/draco-malfoy-0', 53, true),
          p('gryffindor/harry-potter-1', 'UDP', 'slytherin/draco-malfoy-0', 5353, true),
          p('gryffindor/harry-potter-0', 'SCTP', 'slytherin/draco-malfoy-0', 9003, true),
          p('gryffindor/harry-potter-1', 'SCTP', 'slytherin/draco-malfoy-0', 9005, true),
          p('slytherin/draco-malfoy-0', 'TCP', 'gryffindor/harry-potter-0', 80, true),
          p('slytherin/draco-malfoy-1', 'TCP', 'gryffindor/harry-potter-0', 8080, true),
          p('slytherin/draco-malfoy-0', 'UDP', 'gryffindor/harry-potter-0', 53, true),
          p('slytherin/draco-malfoy-1', 'UDP', 'gryffindor/harry-potter-0', 5353, true),
          p('slytherin/draco-malfoy-0', 'SCTP', 'gryffindor/harry-potter-0', 9003, true),
          p('slytherin/draco-malfoy-1', 'SCTP', 'gryffindor/harry-potter-0', 9005, true),
        ],
      ],
    ],
  },
  {
    test: 'CNPAdminTierIngressSCTP',
    manifests: 'admin_tier/standard-ingress-sctp-rules',
    steps: [
      [
        "Should support an 'allow-ingress' policy for SCTP protocol; ensure rule ordering is respected",
        [
          p('gryffindor/harry-potter-0', 'SCTP', 'ravenclaw/luna-lovegood-0', 9003, true),
          p('gryffindor/harry-potter-1', 'SCTP', 'ravenclaw/luna-lovegood-0', 9005, true),
        ],
      ],
      [
        "Should support an 'allow-ingress' policy for SCTP protocol at the specified port",
        [
          p('hufflepuff/cedric-diggory-0', 'SCTP', 'ravenclaw/luna-lovegood-1', 9003, true),
          p('hufflepuff/cedric-diggory-1', 'SCTP', 'ravenclaw/luna-lovegood-1', 9005, false),
        ],
      ],
      [
        "Should support an 'deny-ingress' policy for SCTP protocol; ensure rule ordering is respected",
        [
          swap('ingress-sctp', 'ingress', 0, 1),
          p('gryffindor/harry-potter-0', 'SCTP', 'ravenclaw/luna-lovegood-1', 9003, false),
          p('gryffindor/harry-potter-1', 'SCTP', 'ravenclaw/luna-lovegood-1', 9005, false),
        ],
      ],
      [
        "Should support a 'deny-ingress' policy for SCTP protocol at the specified port",
        [
          p('slytherin/draco-malfoy-0', 'SCTP', 'ravenclaw/luna-lovegood-0', 9003, false),
          p('slytherin/draco-malfoy-1', 'SCTP', 'ravenclaw/luna-lovegood-0', 9005, true),
        ],
      ],
      [
        "Should support an 'pass-ingress' policy for SCTP protocol; ensure rule ordering is respected",
        [
          swap('ingress-sctp', 'ingress', 0, 2),
          p('gryffindor/harry-potter-0', 'SCTP', 'ravenclaw/luna-lovegood-1', 9003, true),
          p('gryffindor/harry-potter-1', 'SCTP', 'ravenclaw/luna-lovegood-1', 9005, true),
        ],
      ],
      [
        "Should support a 'pass-ingress' policy for SCTP protocol at the specified port",
        [
          swap('ingress-sctp', 'ingress', 3, 4),
          p('slytherin/draco-malfoy-0', 'SCTP', 'ravenclaw/luna-lovegood-0', 9003, true),
          p('slytherin/draco-malfoy-1', 'SCTP', 'ravenclaw/luna-lovegood-0', 9005, true),
        ],
      ],
    ],
  },
  {
    test: 'CNPAdminTierIngressTCP',
    manifests: 'admin_tier/standard-ingress-tcp-rules',
    steps: [
      [
        "Should support an 'allow-ingress' policy for TCP protocol; ensure rule ordering is respected",
        [
          p('ravenclaw/luna-lovegood-0', 'TCP', 'gryffindor/harry-potter-0', 80, true),
          p('ravenclaw/luna-lovegood-1', 'TCP', 'gryffindor/harry-potter-0', 8080, true),
        ],
      ],
      [
        "Should support an 'allow-ingress' policy for TCP protocol at the specified port",
        [
          p('hufflepuff/cedric-diggory-0', 'TCP', 'gryffindor/harry-potter-1', 80, true),
          p('hufflepuff/cedric-diggory-1', 'TCP', 'gryffindor/harry-potter-1', 8080, false),
        ],
      ],
      [
        "Should support an 'deny-ingress' policy for TCP protocol; ensure rule ordering is respected",
        [
          swap('ingress-tcp', 'ingress', 0, 1),
          p('ravenclaw/luna-lovegood-0', 'TCP', 'gryffindor/harry-potter-1', 80, false),
          p('ravenclaw/luna-lovegood-1', 'TCP', 'gryffindor/harry-potter-1', 8080, false),
        ],
      ],
      [
        "Should support a 'deny-ingress' policy for TCP protocol at the specified port",
        [
          p('slytherin/draco-malfoy-0', 'TCP', 'gryffindor/harry-potter-0', 80, false),
          p('slytherin/draco-malfoy-1', 'TCP', 'gryffindor/harry-potter-0', 8080, true),
        ],
      ],
      [
        "Should support an 'pass-ingress' policy for TCP protocol; ensure rule ordering is respected",
        [
          swap('ingress-tcp', 'ingress', 0, 2),
          p('ravenclaw/luna-lovegood-0', 'TCP', 'gryffindor/harry-potter-0', 80, true),
          p('ravenclaw/luna-lovegood-1', 'TCP', 'gryffindor/harry-potter-0', 8080, true),
        ],
      ],
      [
        "Should support a 'pass-ingress' policy for TCP protocol at the specified port",
        [
          swap('ingress-tcp', 'ingress', 3, 4),
          p('slytherin/draco-malfoy-0', 'TCP', 'gryffindor/harry-potter-0', 80, true),
          p('slytherin/draco-malfoy-1', 'TCP', 'gryffindor/harry-potter-0', 8080, true),
        ],
      ],
    ],
  },
  {
    test: 'CNPAdminTierIngressUDP',
    manifests: 'admin_tier/standard-ingress-udp-rules',
    steps: [
      [
        "Should support an 'allow-ingress' policy for UDP protocol; ensure rule ordering is respected",
        [
          p('ravenclaw/luna-lovegood-0', 'UDP', 'hufflepuff/cedric-diggory-0', 53, true),
          p('ravenclaw/luna-lovegood-1', 'UDP', 'hufflepuff/cedric-diggory-0', 5353, true),
        ],
      ],
      [
        "Should support an 'allow-ingress' policy for UDP protocol at the specified port",
        [
          p('gryffindor/harry-potter-0', 'UDP', 'hufflepuff/cedric-diggory-1', 53, true),
          p('gryffindor/harry-potter-1', 'UDP', 'hufflepuff/cedric-diggory-1', 5353, false),
        ],
      ],
      [
        "Should support an 'deny-ingress' policy for UDP protocol; ensure rule ordering is respected",
        [
          swap('ingress-udp', 'ingress', 0, 1),
          p('ravenclaw/luna-lovegood-0', 'UDP', 'hufflepuff/cedric-diggory-1', 53, false),
          p('ravenclaw/luna-lovegood-1', 'UDP', 'hufflepuff/cedric-diggory-1', 5353, false),
        ],
      ],
      [
        "Should support a 'deny-ingress' policy for UDP protocol at the specified port",
        [
          p('slytherin/draco-malfoy-0', 'UDP', 'hufflepuff/cedric-diggory-0', 5353, false),
          p('slytherin/draco-malfoy-1', 'UDP', 'hufflepuff/cedric-diggory-0', 53, true),
        ],
      ],
      [
        "Should support an 'pass-ingress' policy for UDP protocol; ensure rule ordering is respected",
        [
          swap('ingress-udp', 'ingress', 0, 2),
          p('ravenclaw/luna-lovegood-0', 'UDP', 'hufflepuff/cedric-diggory-1', 5353, true),
          p('ravenclaw/luna-lovegood-1', 'UDP', 'hufflepuff/cedric-diggory-1', 53, true),
        ],
      ],
      [
        "Should support a 'pass-ingress' policy for UDP protocol at the specified port",
        [
          swap('ingress-udp', 'ingress', 3, 4),
          p('slytherin/draco-malfoy-0', 'UDP', 'hufflepuff/cedric-diggory-0', 5353, true),
          p('slytherin/draco-malfoy-1', 'UDP', 'hufflepuff/cedric-diggory-0', 53, true),
        ],
      ],
    ],
  },
  {
    test: 'CNPAdminTierIntegration',
    manifests: 'api_integration/standard-anp-np-banp',
    steps: [
      [
        'Should Deny traffic from slytherin to gryffindor respecting admin CNP',
        [
          p('slytherin/draco-malfoy-0', 'TCP', 'gryffindor/harry-potter-0', 80, false),
          p('slytherin/draco-malfoy-1', 'TCP', 'gryffindor/harry-potter-0', 8080, false),
        ],
      ],
      [
        'Should Deny traffic to slytherin from gryffindor respecting admin CNP',
        [
          p('gryffindor/harry-potter-0', 'TCP', 'slytherin/draco-malfoy-0', 80, false),
          p('gryffindor/harry-potter-1', 'TCP', 'slytherin/draco-malfoy-0', 8080, false),
        ],
      ],
      [
        "Should support a 'pass-ingress' policy for admin CNP and respect the match for network policy",
        [
          action('pass-example', 'ingress', 0, 'Pass'),
          p('slytherin/draco-malfoy-0', 'TCP', 'gryffindor/harry-potter-0', 80, true),
          p('slytherin/draco-malfoy-1', 'TCP', 'gryffindor/harry-potter-0', 8080, true),
        ],
      ],
      [
        "Should support a 'pass-egress' policy for admin CNP and respect the match for network policy",
        [
          action('pass-example', 'egress', 0, 'Pass'),
          p('gryffindor/harry-potter-0', 'TCP', 'slytherin/draco-malfoy-0', 80, true),
          p('gryffindor/harry-potter-1', 'TCP', 'slytherin/draco-malfoy-0', 8080, true),
        ],
      ],
      [
        "Should support a 'pass-ingress' policy for admin CNP and respect the match for baseline cluster network policy",
        [
          deleteNetworkPolicies(),
          p('slytherin/draco-malfoy-0', 'TCP', 'gryffindor/harry-potter-0', 80, false),
          p('slytherin/draco-malfoy-1', 'TCP', 'gryffindor/harry-potter-0', 8080, false),
        ],
      ],
      [
        "Should support a 'pass-egress' policy for admin CNP and respect the match for baseline cluster network policy",
        [
          p('gryffindor/harry-potter-0', 'TCP', 'slytherin/draco-malfoy-0', 80, false),
          p('gryffindor/harry-potter-1', 'TCP', 'slytherin/draco-malfoy-0', 8080, false),
        ],
      ],
    ],
  },
  {
    test: 'CNPAdminTierPriorityField',
    manifests: 'admin_tier/standard-priority-field',
    steps: [
      [
        'Should Deny traffic from slytherin to gryffindor respecting admin CNP',
        [
          p('slytherin/draco-malfoy-0', 'TCP', 'gryffindor/harry-potter-0', 80, false),
          p('slytherin/draco-malfoy-1', 'TCP', 'gryffindor/harry-potter-0', 8080, false),
        ],
      ],
      [
        'Should Deny traffic to slytherin from gryffindor respecting admin CNP',
        [
          p('gryffindor/harry-potter-0', 'TCP', 'slytherin/draco-malfoy-0', 80, false),
          p('gryffindor/harry-potter-1', 'TCP', 'slytherin/draco-malfoy-0', 8080, false),
        ],
      ],
      [
        'Should respect admin CNP priority field; thus passing both ingress and egress traffic over to baseline CNP',
        [
          priority('old-priority-60-new-priority-40-example', 40),
          p('slytherin/draco-malfoy-0', 'TCP', 'gryffindor/harry-potter-0', 80, true),
          p('slytherin/draco-malfoy-1', 'TCP', 'gryffindor/harry-potter-0', 8080, true),
          p('gryffindor/harry-potter-0', 'TCP', 'slytherin/draco-malfoy-0', 80, true),
          p('gryffindor/harry-potter-1', 'TCP', 'slytherin/draco-malfoy-0', 8080, true),
        ],
      ],
    ],
  },
  {
    test: 'CNPBaselineTierEgressNamedPort',
    manifests: 'baseline_tier/standard-egress-udp-rules',
    steps: [
      [
        "Should support an 'allow-egress' policy for named port",
        [
          namedPort('default', 'egress', 3, 'dns'),
          p('hufflepuff/cedric-diggory-0', 'UDP', 'gryffindor/harry-potter-1', 53, true),
          p('hufflepuff/cedric-diggory-1', 'UDP', 'gryffindor/harry-potter-1', 5353, false),
        ],
      ],
    ],
  },
  {
    test: 'CNPBaselineTierEgressNodePeers',
    manifests: 'baseline_tier/experimental-egress-selector-rules',
    steps: [
      [
        "Should support an 'allow-egress' rule policy for egress-node-peer",
        [
          p('gryffindor/harry-potter-0', 'TCP', node('forbidden-forrest/centaur-1'), HNP[0], true),
          p('gryffindor/harry-potter-1', 'TCP', node('forbidden-forrest/centaur-1'), HNP[1], true),
        ],
      ],
      [
        "Should support a 'deny-egress' rule policy for egress-node-peer",
        [
          p('gryffindor/harry-potter-1', 'UDP', node('forbidden-forrest/centaur-1'), HNP[4], false),
          p('gryffindor/harry-potter-1', 'SCTP', node('forbidden-forrest/centaur-1'), HNP[6], false),
        ],
      ],
    ],
  },
  {
    test: 'CNPBaselineTierIngressNamedPort',
    manifests: 'baseline_tier/standard-ingress-tcp-rules',
    steps: [
      [
        "Should support an 'allow-ingress' policy for named port",
        [
          namedPort('default', 'ingress', 3, 'web'),
          p('hufflepuff/cedric-diggory-0', 'TCP', 'gryffindor/harry-potter-1', 80, true),
          p('hufflepuff/cedric-diggory-1', 'TCP', 'gryffindor/harry-potter-1', 8080, false),
        ],
      ],
    ],
  },
  {
    test: 'CNPBaselineTierEgressInlineCIDRPeers',
    manifests: 'baseline_tier/standard-egress-inline-cidr-rules',
    steps: [
      [
        "Should support a 'deny-egress' rule policy for egress-cidr-peer",
        [
          p('gryffindor/harry-potter-1', 'TCP', 'ravenclaw/luna-lovegood-0', 80, false),
          p('gryffindor/harry-potter-1', 'UDP', 'ravenclaw/luna-lovegood-0', 53, false),
          p('gryffindor/harry-potter-1', 'SCTP', 'ravenclaw/luna-lovegood-0', 9003, false),
          p('gryffindor/harry-potter-1', 'TCP', 'hufflepuff/cedric-diggory-0', 80, false),
          p('gryffindor/harry-potter-1', 'UDP', 'hufflepuff/cedric-diggory-0', 53, false),
          p('gryffindor/harry-potter-1', 'SCTP', 'hufflepuff/cedric-diggory-0', 9003, false),
          p('gryffindor/harry-potter-1', 'TCP', 'slytherin/draco-malfoy-0', 80, true),
          p('gryffindor/harry-potter-1', 'UDP', 'slytherin/draco-malfoy-0', 53, true),
          p('gryffindor/harry-potter-1', 'SCTP', 'slytherin/draco-malfoy-0', 9003, true),
          houseLabel('slytherin', 'denied-namespace-label'),
          p('gryffindor/harry-potter-1', 'TCP', 'slytherin/draco-malfoy-0', 80, false),
          p('gryffindor/harry-potter-1', 'UDP', 'slytherin/draco-malfoy-0', 53, false),
          p('gryffindor/harry-potter-1', 'SCTP', 'slytherin/draco-malfoy-0', 9003, false),
          houseLabel('slytherin', 'slytherin'),
          p('gryffindor/harry-potter-1', 'TCP', 'slytherin/draco-malfoy-0', 80, true),
          p('gryffindor/harry-potter-1', 'UDP', 'slytherin/draco-malfoy-0', 53, true),
          p('gryffindor/harry-potter-1', 'SCTP', 'slytherin/draco-malfoy-0', 9003, true),
        ],
      ],
      [
        "Should support an 'allow-egress' rule policy for egress-cidr-peer",
        [
          allowPodIps('default', ['ravenclaw/luna-lovegood-0', 'hufflepuff/cedric-diggory-0']),
          p('gryffindor/harry-potter-1', 'TCP', 'ravenclaw/luna-lovegood-0', 80, true),
          p('gryffindor/harry-potter-1', 'UDP', 'ravenclaw/luna-lovegood-0', 53, true),
          p('gryffindor/harry-potter-1', 'SCTP', 'ravenclaw/luna-lovegood-0', 9003, true),
          p('gryffindor/harry-potter-1', 'TCP', 'hufflepuff/cedric-diggory-0', 80, true),
          p('gryffindor/harry-potter-1', 'UDP', 'hufflepuff/cedric-diggory-0', 53, true),
          p('gryffindor/harry-potter-1', 'SCTP', 'hufflepuff/cedric-diggory-0', 9003, true),
          p('gryffindor/harry-potter-1', 'TCP', 'ravenclaw/luna-lovegood-1', 80, false),
          p('gryffindor/harry-potter-1', 'UDP', 'ravenclaw/luna-lovegood-1', 53, false),
          p('gryffindor/harry-potter-1', 'SCTP', 'ravenclaw/luna-lovegood-1', 9003, false),
          p('gryffindor/harry-potter-1', 'TCP', 'hufflepuff/cedric-diggory-1', 80, false),
          p('gryffindor/harry-potter-1', 'UDP', 'hufflepuff/cedric-diggory-1', 53, false),
          p('gryffindor/harry-potter-1', 'SCTP', 'hufflepuff/cedric-diggory-1', 9003, false),
        ],
      ],
    ],
  },
  {
    test: 'CNPBaselineTierEgressSCTP',
    manifests: 'baseline_tier/standard-egress-sctp-rules',
    steps: [
      [
        "Should support an 'allow-egress' policy for SCTP protocol; ensure rule ordering is respected",
        [
          p('ravenclaw/luna-lovegood-0', 'SCTP', 'gryffindor/harry-potter-0', 9003, true),
          p('ravenclaw/luna-lovegood-1', 'SCTP', 'gryffindor/harry-potter-0', 9005, true),
        ],
      ],
      [
        "Should support an 'allow-egress' policy for SCTP protocol at the specified port",
        [
          p('ravenclaw/luna-lovegood-0', 'SCTP', 'hufflepuff/cedric-diggory-1', 9003, true),
          p('ravenclaw/luna-lovegood-1', 'SCTP', 'hufflepuff/cedric-diggory-1', 9005, false),
        ],
      ],
      [
        "Should support an 'deny-egress' policy for SCTP protocol; ensure rule ordering is respected",
        [
          swap('default', 'egress', 0, 1),
          p('ravenclaw/luna-lovegood-0', 'SCTP', 'gryffindor/harry-potter-1', 9003, false),
          p('ravenclaw/luna-lovegood-1', 'SCTP', 'gryffindor/harry-potter-1', 9005, false),
        ],
      ],
      [
        "Should support a 'deny-egress' policy for SCTP protocol at the specified port",
        [
          p('ravenclaw/luna-lovegood-0', 'SCTP', 'slytherin/draco-malfoy-0', 9003, false),
          p('ravenclaw/luna-lovegood-1', 'SCTP', 'slytherin/draco-malfoy-0', 9005, true),
        ],
      ],
    ],
  },
  {
    test: 'CNPBaselineTierEgressTCP',
    manifests: 'baseline_tier/standard-egress-tcp-rules',
    steps: [
      [
        "Should support an 'allow-egress' policy for TCP protocol; ensure rule ordering is respected",
        [
          p('gryffindor/harry-potter-0', 'TCP', 'ravenclaw/luna-lovegood-0', 80, true),
          p('gryffindor/harry-potter-1', 'TCP', 'ravenclaw/luna-lovegood-0', 8080, true),
        ],
      ],
      [
        "Should support an 'allow-egress' policy for TCP protocol at the specified port",
        [
          p('gryffindor/harry-potter-0', 'TCP', 'hufflepuff/cedric-diggory-1', 8080, true),
          p('gryffindor/harry-potter-1', 'TCP', 'hufflepuff/cedric-diggory-1', 80, false),
        ],
      ],
      [
        "Should support an 'deny-egress' policy for TCP protocol; ensure rule ordering is respected",
        [
          swap('default', 'egress', 0, 1),
          p('gryffindor/harry-potter-0', 'TCP', 'ravenclaw/luna-lovegood-1', 80, false),
          p('gryffindor/harry-potter-1', 'TCP', 'ravenclaw/luna-lovegood-1', 8080, false),
        ],
      ],
      [
        "Should support a 'deny-egress' policy for TCP protocol at the specified port",
        [
          p('gryffindor/harry-potter-0', 'TCP', 'slytherin/draco-malfoy-0', 80, false),
          p('gryffindor/harry-potter-1', 'TCP', 'slytherin/draco-malfoy-0', 8080, true),
        ],
      ],
    ],
  },
  {
    test: 'CNPBaselineTierEgressUDP',
    manifests: 'baseline_tier/standard-egress-udp-rules',
    steps: [
      [
        "Should support an 'allow-egress' policy for UDP protocol; ensure rule ordering is respected",
        [
          p('hufflepuff/cedric-diggory-0', 'UDP', 'ravenclaw/luna-lovegood-0', 53, true),
          p('hufflepuff/cedric-diggory-1', 'UDP', 'ravenclaw/luna-lovegood-0', 5353, true),
        ],
      ],
      [
        "Should support an 'allow-egress' policy for UDP protocol at the specified port",
        [
          p('hufflepuff/cedric-diggory-0', 'UDP', 'gryffindor/harry-potter-1', 53, true),
          p('hufflepuff/cedric-diggory-1', 'UDP', 'gryffindor/harry-potter-1', 5353, false),
        ],
      ],
      [
        "Should support an 'deny-egress' policy for UDP protocol; ensure rule ordering is respected",
        [
          swap('default', 'egress', 0, 1),
          p('hufflepuff/cedric-diggory-0', 'UDP', 'ravenclaw/luna-lovegood-1', 53, false),
          p('hufflepuff/cedric-diggory-1', 'UDP', 'ravenclaw/luna-lovegood-1', 5353, false),
        ],
      ],
      [
        "Should support a 'deny-egress' policy for UDP protocol at the specified port",
        [
          p('hufflepuff/cedric-diggory-0', 'UDP', 'slytherin/draco-malfoy-0', 5353, false),
          p('hufflepuff/cedric-diggory-1', 'UDP', 'slytherin/draco-malfoy-0', 53, true),
        ],
      ],
    ],
  },
  {
    test: 'CNPBaselineTierGress',
    manifests: 'baseline_tier/standard-gress-rules-combined',
    steps: [
      [
        "Should support an 'allow-gress' policy across different protocols",
        [
          p('gryffindor/harry-potter-0', 'TCP', 'ravenclaw/luna-lovegood-0', 80, true),
          p('gryffindor/harry-potter-1', 'UDP', 'ravenclaw/luna-lovegood-0', 53, true),
          p('gryffindor/harry-potter-0', 'SCTP', 'ravenclaw/luna-lovegood-0', 9003, true),
          p('ravenclaw/luna-lovegood-0', 'TCP', 'gryffindor/harry-potter-0', 80, true),
          p('ravenclaw/luna-lovegood-1', 'UDP', 'gryffindor/harry-potter-0', 53, true),
          p('ravenclaw/luna-lovegood-1', 'SCTP', 'gryffindor/harry-potter-0', 9003, true),
        ],
      ],
      [
        "Should support an 'allow-gress' policy across different protocols at the specified ports",
        [
          p('gryffindor/harry-potter-0', 'TCP', 'hufflepuff/cedric-diggory-1', 8080, true),
          p('gryffindor/harry-potter-1', 'TCP', 'hufflepuff/cedric-diggory-1', 80, false),
          p('gryffindor/harry-potter-0', 'UDP', 'hufflepuff/cedric-diggory-1', 5353, true),
          p('gryffindor/harry-potter-1', 'UDP', 'hufflepuff/cedric-diggory-1', 53, false),
          p('gryffindor/harry-potter-0', 'SCTP', 'hufflepuff/cedric-diggory-1', 9003, true),
          p('gryffindor/harry-potter-1', 'SCTP', 'hufflepuff/cedric-diggory-1', 9005, false),
          p('hufflepuff/cedric-diggory-0', 'TCP', 'gryffindor/harry-potter-1', 80, true),
          p('hufflepuff/cedric-diggory-1', 'TCP', 'gryffindor/harry-potter-1', 8080, false),
          p('hufflepuff/cedric-diggory-0', 'UDP', 'gryffindor/harry-potter-1', 5353, true),
          p('hufflepuff/cedric-diggory-1', 'UDP', 'gryffindor/harry-potter-1', 53, false),
          p('hufflepuff/cedric-diggory-0', 'SCTP', 'gryffindor/harry-potter-1', 9003, true),
          p('hufflepuff/cedric-diggory-1', 'SCTP', 'gryffindor/harry-potter-1', 9005, false),
        ],
      ],
      [
        "Should support an 'deny-gress' policy across different protocols",
        [
          swap('default', 'egress', 0, 1),
          swap('default', 'ingress', 0, 1),
          p('gryffindor/harry-potter-0', 'TCP', 'ravenclaw/luna-lovegood-1', 80, false),
          p('gryffindor/harry-potter-1', 'UDP', 'ravenclaw/luna-lovegood-1', 53, false),
          p('gryffindor/harry-potter-0', 'SCTP', 'ravenclaw/luna-lovegood-1', 9003, false),
          p('ravenclaw/luna-lovegood-0', 'TCP', 'gryffindor/harry-potter-1', 80, false),
          p('ravenclaw/luna-lovegood-1', 'UDP', 'gryffindor/harry-potter-1', 53, false),
          p('ravenclaw/luna-lovegood-1', 'SCTP', 'gryffindor/harry-potter-1', 9003, false),
        ],
      ],
      [
        "Should support a 'deny-gress' policy across different protocols at the specified ports",
        [
          p('gryffindor/harry-potter-0', 'TCP', 'slytherin/draco-malfoy-0', 80, false),
          p('gryffindor/harry-potter-1', 'TCP', 'slytherin/draco-malfoy-0', 8080, true),
          p('gryffindor/harry-potter-0', 'UDP', 'slytherin/draco-malfoy-0', 53, false),
          p('gryffindor/harry-potter-1', 'UDP', 'slytherin/draco-malfoy-0', 5353, true),
          p('gryffindor/harry-potter-0', 'SCTP', 'slytherin/draco-malfoy-0', 9003, false),
          p('gryffindor/harry-potter-1', 'SCTP', 'slytherin/draco-malfoy-0', 9005, true),
          p('slytherin/draco-malfoy-0', 'TCP', 'gryffindor/harry-potter-0', 80, false),
          p('slytherin/draco-malfoy-1', 'TCP', 'gryffindor/harry-potter-0', 8080, true),
          p('slytherin/draco-malfoy-0', 'UDP', 'gryffindor/harry-potter-0', 53, false),
          p('slytherin/draco-malfoy-1', 'UDP', 'gryffindor/harry-potter-0', 5353, true),
          p('slytherin/draco-malfoy-0', 'SCTP', 'gryffindor/harry-potter-0', 9003, false),
          p('slytherin/draco-malfoy-1', 'SCTP', 'gryffindor/harry-potter-0', 9005, true),
        ],
      ],
    ],
  },
  {
    test: 'CNPBaselineTierIngressSCTP',
    manifests: 'baseline_tier/standard-ingress-sctp-rules',
    steps: [
      [
        "Should support an 'allow-ingress' policy for SCTP protocol; ensure rule ordering is respected",
        [
          p('gryffindor/harry-potter-0', 'SCTP', 'ravenclaw/luna-lovegood-0', 9003, true),
          p('gryffindor/harry-potter-1', 'SCTP', 'ravenclaw/luna-lovegood-0', 9005, true),
        ],
      ],
      [
        "Should support an 'allow-ingress' policy for SCTP protocol at the specified port",
        [
          p('hufflepuff/cedric-diggory-0', 'SCTP', 'ravenclaw/luna-lovegood-1', 9003, true),
          p('hufflepuff/cedric-diggory-1', 'SCTP', 'ravenclaw/luna-lovegood-1', 9005, false),
        ],
      ],
      [
        "Should support an 'deny-ingress' policy for SCTP protocol; ensure rule ordering is respected",
        [
          swap('default', 'ingress', 0, 1),
          p('gryffindor/harry-potter-0', 'SCTP', 'ravenclaw/luna-lovegood-1', 9003, false),
          p('gryffindor/harry-potter-1', 'SCTP', 'ravenclaw/luna-lovegood-1', 9005, false),
        ],
      ],
      [
        "Should support a 'deny-ingress' policy for SCTP protocol at the specified port",
        [
          p('slytherin/draco-malfoy-0', 'SCTP', 'ravenclaw/luna-lovegood-0', 9003, false),
          p('slytherin/draco-malfoy-1', 'SCTP', 'ravenclaw/luna-lovegood-0', 9005, true),
        ],
      ],
    ],
  },
  {
    test: 'CNPBaselineTierIngressTCP',
    manifests: 'baseline_tier/standard-ingress-tcp-rules',
    steps: [
      [
        "Should support an 'allow-ingress' policy for TCP protocol; ensure rule ordering is respected",
        [
          p('ravenclaw/luna-lovegood-0', 'TCP', 'gryffindor/harry-potter-0', 80, true),
          p('ravenclaw/luna-lovegood-1', 'TCP', 'gryffindor/harry-potter-0', 8080, true),
        ],
      ],
      [
        "Should support an 'allow-ingress' policy for TCP protocol at the specified port",
        [
          p('hufflepuff/cedric-diggory-0', 'TCP', 'gryffindor/harry-potter-1', 80, true),
          p('hufflepuff/cedric-diggory-1', 'TCP', 'gryffindor/harry-potter-1', 8080, false),
        ],
      ],
      [
        "Should support an 'deny-ingress' policy for TCP protocol; ensure rule ordering is respected",
        [
          swap('default', 'ingress', 0, 1),
          p('ravenclaw/luna-lovegood-0', 'TCP', 'gryffindor/harry-potter-1', 80, false),
          p('ravenclaw/luna-lovegood-1', 'TCP', 'gryffindor/harry-potter-1', 8080, false),
        ],
      ],
      [
        "Should support a 'deny-ingress' policy for TCP protocol at the specified port",
        [
          p('slytherin/draco-malfoy-0', 'TCP', 'gryffindor/harry-potter-0', 80, false),
          p('slytherin/draco-malfoy-1', 'TCP', 'gryffindor/harry-potter-0', 8080, true),
        ],
      ],
    ],
  },
  {
    test: 'CNPBaselineTierIngressUDP',
    manifests: 'baseline_tier/standard-ingress-udp-rules',
    steps: [
      [
        "Should support an 'allow-ingress' policy for UDP protocol; ensure rule ordering is respected",
        [
          p('ravenclaw/luna-lovegood-0', 'UDP', 'hufflepuff/cedric-diggory-0', 53, true),
          p('ravenclaw/luna-lovegood-1', 'UDP', 'hufflepuff/cedric-diggory-0', 5353, true),
        ],
      ],
      [
        "Should support an 'allow-ingress' policy for UDP protocol at the specified port",
        [
          p('gryffindor/harry-potter-0', 'UDP', 'hufflepuff/cedric-diggory-1', 53, true),
          p('gryffindor/harry-potter-1', 'UDP', 'hufflepuff/cedric-diggory-1', 5353, false),
        ],
      ],
      [
        "Should support an 'deny-ingress' policy for UDP protocol; ensure rule ordering is respected",
        [
          swap('default', 'ingress', 0, 1),
          p('ravenclaw/luna-lovegood-0', 'UDP', 'hufflepuff/cedric-diggory-1', 53, false),
          p('ravenclaw/luna-lovegood-1', 'UDP', 'hufflepuff/cedric-diggory-1', 5353, false),
        ],
      ],
      [
        "Should support a 'deny-ingress' policy for UDP protocol at the specified port",
        [
          p('slytherin/draco-malfoy-0', 'UDP', 'hufflepuff/cedric-diggory-0', 5353, false),
          p('slytherin/draco-malfoy-1', 'UDP', 'hufflepuff/cedric-diggory-0', 53, true),
        ],
      ],
    ],
  },
];

describe.each(SCENARIOS)('$test ($manifests)', ({ manifests: path, steps }) => {
  // Steps share the state upstream's patches leave: one object list per scenario, in step order.
  const objects: Obj[] = structuredClone([...baseWorld(), ...manifests(path)]);
  it.each(steps)('%s', (_name, ops) => {
    for (const op of ops) {
      if ('patch' in op) {
        op.apply(objects);
        continue;
      }
      const [src, protocol, dst, port, allowed] = op.probe;
      const w = load(objects.map((o) => JSON.stringify(o)).join('\n---\n'));
      expect(verdict(w, flow(src, dst, protocol, port)).allowed, `${src} -> ${dst} ${protocol}/${port}`).toBe(allowed);
    }
  });
});

it('covers every upstream v1alpha2 scenario: 24 tests, 92 steps', () => {
  expect([SCENARIOS.length, SCENARIOS.reduce((n, s) => n + s.steps.length, 0)]).toEqual([24, 92]);
});
