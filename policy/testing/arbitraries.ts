// fast-check generators of Kubernetes objects (namespaces, pods, NetworkPolicy, ANP, BANP) and flows,
// drawn from small pools so that selectors, CIDRs and ports often overlap and collide.
import fc from 'fast-check';

const NAMESPACES = ['alpha', 'beta', 'gamma'];
const APPS = ['web', 'db', 'api'];
const PORT_POOL = [1, 53, 79, 80, 81, 443, 1000, 5353, 8080, 65535];
const NAMED = [
  { name: 'http', containerPort: 80, protocol: 'TCP' },
  { name: 'http', containerPort: 8080, protocol: 'TCP' },
  { name: 'dns', containerPort: 53, protocol: 'UDP' },
  { name: 'dns', containerPort: 5353, protocol: 'UDP' },
  { name: 'sctp-x', containerPort: 443, protocol: 'SCTP' },
];
export const EXTERNAL_IPS = [
  '10.0.0.5',
  '10.1.2.3',
  '10.255.255.255',
  '192.168.1.1',
  '192.168.1.200',
  '8.8.8.8',
  '172.16.0.1',
  '0.0.0.1',
  'fd00::1',
  '2001:db8::5',
  '2001:db8:1::9',
];
const CIDRS = [
  { cidr: '10.0.0.0/8', except: ['10.1.0.0/16', '10.0.0.0/30'] },
  { cidr: '192.168.1.0/24', except: ['192.168.1.128/25'] },
  { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] },
  { cidr: '8.8.8.8/32', except: [] },
  { cidr: 'fd00::/8', except: [] },
  { cidr: '2001:db8::/32', except: ['2001:db8:1::/48'] },
];
const PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;

const labelSet = fc.record({ app: fc.constantFrom(...APPS), tier: fc.constantFrom('front', 'back') }, { requiredKeys: [] });
const nsLabelSet = fc.record({ team: fc.constantFrom('x', 'y'), env: fc.constantFrom('prod', 'dev') }, { requiredKeys: [] });

const expression = (keys: string[], values: string[]) =>
  fc.oneof(
    fc.record({
      key: fc.constantFrom(...keys),
      operator: fc.constantFrom('In', 'NotIn'),
      values: fc.uniqueArray(fc.constantFrom(...values), { minLength: 1, maxLength: 2 }),
    }),
    fc.record({ key: fc.constantFrom(...keys), operator: fc.constantFrom('Exists', 'DoesNotExist') }),
  );

const podSelector = fc.record(
  { matchLabels: labelSet, matchExpressions: fc.array(expression(['app', 'tier'], [...APPS, 'front', 'back']), { maxLength: 1 }) },
  { requiredKeys: [] },
);
const nsSelector = fc.record(
  {
    matchLabels: fc.oneof(nsLabelSet, fc.record({ 'kubernetes.io/metadata.name': fc.constantFrom(...NAMESPACES) })),
    matchExpressions: fc.array(expression(['team', 'env'], ['x', 'y', 'prod', 'dev']), { maxLength: 1 }),
  },
  { requiredKeys: [] },
);

export const namespaceObj = (name: string) =>
  fc.record({ apiVersion: fc.constant('v1'), kind: fc.constant('Namespace'), metadata: fc.record({ name: fc.constant(name), labels: nsLabelSet }) });

export const podObj = (name: string) =>
  fc
    .record({
      ns: fc.constantFrom(...NAMESPACES),
      labels: labelSet,
      ports: fc.subarray(NAMED, { maxLength: 3 }).map((ps) => ps.filter((p, i) => ps.findIndex((q) => q.name === p.name) === i)),
      kind: fc.constantFrom('Pod', 'Deployment', 'StatefulSet'),
    })
    .map(({ ns, labels, ports, kind }) => {
      const containers = [{ name: 'c', image: 'x', ports }];
      if (kind === 'Pod') return { apiVersion: 'v1', kind, metadata: { name, namespace: ns, labels }, spec: { containers } };
      return { apiVersion: 'apps/v1', kind, metadata: { name, namespace: ns }, spec: { template: { metadata: { labels }, spec: { containers } } } };
    });

const npPort = fc.oneof(
  fc.record({ protocol: fc.constantFrom(...PROTOCOLS), port: fc.constantFrom(...PORT_POOL) }, { requiredKeys: ['port'] }),
  fc
    .record({ protocol: fc.constantFrom(...PROTOCOLS), port: fc.constantFrom(53, 80, 1000), endPort: fc.constantFrom(80, 1000, 8080, 65535) })
    .filter((p) => p.endPort >= p.port),
  fc.record({ protocol: fc.constantFrom(...PROTOCOLS), port: fc.constantFrom('http', 'dns', 'sctp-x', 'nope') }, { requiredKeys: ['port'] }),
  fc.record({ protocol: fc.constantFrom(...PROTOCOLS) }),
);
const npPeer = fc.oneof(
  fc.record({ podSelector }),
  fc.record({ namespaceSelector: nsSelector }),
  fc.record({ podSelector, namespaceSelector: nsSelector }),
  fc.constantFrom(...CIDRS).map((c) => ({ ipBlock: c })),
);
const npRule = (peersKey: 'from' | 'to') =>
  fc.record({ [peersKey]: fc.array(npPeer, { maxLength: 2 }), ports: fc.array(npPort, { maxLength: 2 }) }, { requiredKeys: [] });
const annotations = fc.constantFrom(undefined, undefined, { 'weft.dev/mode': 'audit' });

export const networkPolicyObj = (name: string) =>
  fc
    .record({
      ns: fc.constantFrom(...NAMESPACES),
      annotations,
      podSelector,
      policyTypes: fc.constantFrom(undefined, ['Ingress'], ['Egress'], ['Ingress', 'Egress'], []),
      ingress: fc.option(fc.array(npRule('from'), { maxLength: 2 }), { nil: undefined }),
      egress: fc.option(fc.array(npRule('to'), { maxLength: 2 }), { nil: undefined }),
    })
    .map(({ ns, annotations: a, ...spec }) => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name, namespace: ns, ...(a ? { annotations: a } : {}) },
      spec: Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined)),
    }));

const anpPort = fc.oneof(
  fc.record({ portNumber: fc.record({ protocol: fc.constantFrom(...PROTOCOLS), port: fc.constantFrom(...PORT_POOL) }) }),
  fc.record({ namedPort: fc.constantFrom('http', 'dns', 'sctp-x', 'nope') }),
  fc.record({
    portRange: fc
      .record({ protocol: fc.constantFrom(...PROTOCOLS), start: fc.constantFrom(53, 80, 1000), end: fc.constantFrom(80, 1000, 8080) })
      .filter((r) => r.end >= r.start),
  }),
);
const anpPeer = (egress: boolean) =>
  fc.oneof(
    fc.record({ namespaces: nsSelector }),
    fc.record({ pods: fc.record({ namespaceSelector: nsSelector, podSelector }) }),
    ...(egress ? [fc.constantFrom(...CIDRS).map((c) => ({ networks: [c.cidr, ...c.except.slice(0, 1)] }))] : []),
  );
const anpRule = (peersKey: 'from' | 'to', actions: string[]) =>
  fc.record(
    {
      action: fc.constantFrom(...actions),
      [peersKey]: fc.array(anpPeer(peersKey === 'to'), { minLength: 1, maxLength: 2 }),
      ports: fc.option(fc.array(anpPort, { minLength: 1, maxLength: 2 }), { nil: undefined }),
    },
    { requiredKeys: ['action', peersKey] },
  );
const subject = fc.oneof(fc.record({ namespaces: nsSelector }), fc.record({ pods: fc.record({ namespaceSelector: nsSelector, podSelector }) }));

export const adminPolicyObj = (name: string, baseline: boolean) =>
  fc
    .record({
      annotations,
      priority: fc.integer({ min: 0, max: 3 }),
      subject,
      ingress: fc.array(anpRule('from', baseline ? ['Allow', 'Deny'] : ['Allow', 'Deny', 'Pass']), { maxLength: 3 }),
      egress: fc.array(anpRule('to', baseline ? ['Allow', 'Deny'] : ['Allow', 'Deny', 'Pass']), { maxLength: 3 }),
    })
    .map(({ annotations: a, priority, ...spec }) => ({
      apiVersion: 'policy.networking.k8s.io/v1alpha1',
      kind: baseline ? 'BaselineAdminNetworkPolicy' : 'AdminNetworkPolicy',
      metadata: { name: baseline ? 'default' : name, ...(a ? { annotations: a } : {}) },
      spec: baseline ? spec : { priority, ...spec },
    }));

const CNP_PROTOCOL_KEYS = ['tcp', 'udp', 'sctp'] as const;
const cnpProtocol = fc.oneof(
  fc.record({ p: fc.constantFrom(...CNP_PROTOCOL_KEYS), n: fc.constantFrom(...PORT_POOL) }).map(({ p, n }) => ({ [p]: { destinationPort: { number: n } } })),
  fc
    .record({ p: fc.constantFrom(...CNP_PROTOCOL_KEYS), start: fc.constantFrom(53, 80, 1000), end: fc.constantFrom(80, 1000, 8080) })
    .filter((r) => r.start < r.end)
    .map(({ p, start, end }) => ({ [p]: { destinationPort: { range: { start, end } } } })),
  fc.record({ destinationNamedPort: fc.constantFrom('http', 'dns', 'sctp-x', 'nope') }),
);
/** Nodes the world holds (two addresses that flows use, one that no flow does). */
const NODES = [
  { name: 'infra-1', labels: { role: 'infra' }, ip: '192.168.1.1' },
  { name: 'worker-1', labels: { role: 'worker' }, ip: '172.16.0.1' },
  { name: 'worker-2', labels: { role: 'worker' }, ip: '172.16.0.2' },
];
const cnpPeer = (egress: boolean) =>
  fc.oneof(
    fc.record({ namespaces: nsSelector }),
    fc.record({ pods: fc.record({ namespaceSelector: nsSelector, podSelector }, { requiredKeys: ['podSelector'] }) }),
    ...(egress
      ? [
          fc.constantFrom(...CIDRS).map((c) => ({ networks: [c.cidr, ...c.except.slice(0, 1)] })),
          fc.record({ nodes: fc.oneof(fc.constant({}), fc.record({ matchLabels: fc.record({ role: fc.constantFrom('infra', 'worker') }) })) }),
          fc.constant({ domainNames: ['db.example.com', '*.example.org'] }),
        ]
      : []),
  );
const ADDRESS_PEERS = ['networks', 'nodes', 'domainNames'];
const cnpRule = (peersKey: 'from' | 'to') =>
  fc
    .record(
      {
        name: fc.constantFrom('a', 'b'),
        action: fc.constantFrom('Accept', 'Deny', 'Pass'),
        [peersKey]: fc.array(cnpPeer(peersKey === 'to'), { minLength: 1, maxLength: 2 }),
        protocols: fc.option(fc.array(cnpProtocol, { minLength: 1, maxLength: 2 }), { nil: undefined }),
      },
      { requiredKeys: ['action', peersKey] },
    )
    // The CRD's rule: no named port in an egress rule with a networks/nodes/domainNames peer.
    .filter(
      (r) =>
        !(r[peersKey] as object[]).some((p) => ADDRESS_PEERS.some((k) => k in p)) ||
        !((r.protocols as object[] | undefined) ?? []).some((p) => 'destinationNamedPort' in p),
    );

/** A ClusterNetworkPolicy (v1alpha2) of either tier. */
export const clusterPolicyObj = (name: string) =>
  fc
    .record({
      annotations,
      tier: fc.constantFrom('Admin', 'Baseline'),
      priority: fc.integer({ min: 0, max: 3 }),
      subject,
      ingress: fc.array(cnpRule('from'), { maxLength: 3 }),
      egress: fc.array(cnpRule('to'), { maxLength: 3 }),
    })
    .map(({ annotations: a, ...spec }) => ({
      apiVersion: 'policy.networking.k8s.io/v1alpha2',
      kind: 'ClusterNetworkPolicy',
      metadata: { name, ...(a ? { annotations: a } : {}) },
      spec,
    }));

const nodeObjs = NODES.map((n) => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name: n.name, labels: n.labels },
  status: { addresses: [{ type: 'InternalIP', address: n.ip }] },
}));

/** A whole world: namespaces, pods, nodes, policies (v1 and v1alpha2, and deprecated v1alpha1), as Kubernetes objects. */
export const world = fc
  .record({
    namespaces: fc.tuple(...NAMESPACES.map(namespaceObj)),
    pods: fc.integer({ min: 1, max: 6 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => podObj(`p${i}`)))),
    nps: fc.integer({ min: 0, max: 4 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => networkPolicyObj(`np${i}`)))),
    anps: fc.integer({ min: 0, max: 3 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => adminPolicyObj(`anp${i}`, false)))),
    banp: fc.option(adminPolicyObj('default', true), { nil: undefined }),
    cnps: fc.integer({ min: 0, max: 3 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => clusterPolicyObj(`cnp${i}`)))),
    nodes: fc.boolean(),
    podIps: fc.boolean(),
  })
  .map(({ namespaces, pods, nps, anps, banp, cnps, nodes, podIps }) => ({
    objects: [...namespaces, ...pods, ...(nodes ? nodeObjs : []), ...nps, ...anps, ...(banp ? [banp] : []), ...cnps],
    podIps,
  }));

export const flowOver = (podNames: string[]) => {
  const endpoint = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...podNames) }, { weight: 1, arbitrary: fc.constantFrom(...EXTERNAL_IPS) });
  return fc.record({ src: endpoint, dst: endpoint, protocol: fc.constantFrom(...PROTOCOLS), port: fc.constantFrom(...PORT_POOL, 0, 82, 5354) });
};
