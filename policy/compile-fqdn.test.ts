// domainNames in the compiled tables: what an address learned from DNS for a pattern gets, written
// under its FQDN peer (pattern index, the address's own identity), as the kernel looks it up
// (bpf/lib/fqdn.h takes only allows). Tiers, priorities and Pass decide as for any peer.
import { describe, expect, it } from 'vitest';
import { compile } from './compile.ts';
import { patternMatches } from './fqdn.ts';
import { lookupIdentity, lookupRule } from './lookup.ts';
import { fqdnPeer, VERDICT_ALLOW, type Tables } from './tables.ts';
import { load } from './testing/world.ts';

const pod = `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: shop, labels: {app: client}}
spec: {containers: [{name: c, image: x}]}
status: {podIP: 10.0.0.2, podIPs: [{ip: 10.0.0.2}]}
`;
const cnp = (name: string, tier: string, priority: number, egress: string) => `---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: ${name}}
spec:
  tier: ${tier}
  priority: ${priority}
  subject: {namespaces: {}}
  egress: ${egress}
`;

function compiled(yaml: string): Tables {
  const l = load(yaml);
  return compile(l.policies, l.inventory);
}

/** Whether an address with `names` learned is allowed on TCP `port`, as the kernel decides. */
function kernelAllows(t: Tables, addr: string, names: string[], port: number): boolean {
  const set = t.endpoints[0].egressSet;
  const identity = lookupIdentity(t, addr);
  if (lookupRule(t, set, identity, 6, port).verdict === VERDICT_ALLOW) return true;
  return names.some((n) => {
    const index = (t.fqdn ?? []).indexOf(n);
    return index >= 0 && lookupRule(t, set, fqdnPeer(index, identity), 6, port).verdict === VERDICT_ALLOW;
  });
}

describe('domainNames compiled', () => {
  const allowlist = compiled(
    pod +
      cnp(
        'by-name',
        'Admin',
        10,
        '[{action: Accept, to: [{domainNames: [API.Example.com., "*.cdn.test"]}], protocols: [{tcp: {destinationPort: {number: 443}}}]}]',
      ) +
      cnp('rest', 'Admin', 20, '[{action: Deny, to: [{networks: [0.0.0.0/0]}]}]'),
  );

  it('lists the patterns normalized (lowercase, no trailing dot)', () => expect(allowlist.fqdn).toEqual(['api.example.com', '*.cdn.test']));

  it.each([
    ['an address learned for the exact name, on the rule port', ['api.example.com'], 443, true],
    ['the same address on another port', ['api.example.com'], 80, false],
    ['an address learned for the wildcard', ['*.cdn.test'], 443, true],
    ['an address no answer taught', [], 443, false],
  ])('%s', (_what, names, port, want) => expect(kernelAllows(allowlist, '203.0.113.7', names, port)).toBe(want));

  it('a Pass above the names skips them for the addresses it holds; Baseline decides', () => {
    const t = compiled(
      pod +
        cnp('partner-pass', 'Admin', 5, '[{action: Pass, to: [{networks: [203.0.113.0/24]}]}]') +
        cnp('by-name', 'Admin', 10, '[{action: Accept, to: [{domainNames: [api.example.com]}]}]') +
        cnp('baseline', 'Baseline', 10, '[{action: Deny, to: [{networks: [0.0.0.0/0]}]}]'),
    );
    expect(kernelAllows(t, '203.0.113.7', ['api.example.com'], 443)).toBe(false);
    expect(kernelAllows(t, '198.51.100.7', ['api.example.com'], 443)).toBe(true);
  });

  it('a Deny of higher precedence wins over the name', () => {
    const t = compiled(
      pod +
        cnp('block', 'Admin', 1, '[{action: Deny, to: [{networks: [198.51.100.0/24]}]}]') +
        cnp('by-name', 'Admin', 10, '[{action: Accept, to: [{domainNames: [api.example.com]}]}]') +
        cnp('rest', 'Admin', 20, '[{action: Deny, to: [{networks: [0.0.0.0/0]}]}]'),
    );
    expect(kernelAllows(t, '198.51.100.7', ['api.example.com'], 443)).toBe(false);
    expect(kernelAllows(t, '203.0.113.7', ['api.example.com'], 443)).toBe(true);
  });

  it('a Baseline Accept by name sits below NetworkPolicy isolation', () => {
    const np = `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: isolate, namespace: shop}
spec: {podSelector: {}, policyTypes: [Egress]}
`;
    const base = cnp('by-name', 'Baseline', 10, '[{action: Accept, to: [{domainNames: [api.example.com]}]}]');
    expect(
      kernelAllows(
        compiled(pod + base + cnp('rest', 'Baseline', 20, '[{action: Deny, to: [{networks: [0.0.0.0/0]}]}]')),
        '203.0.113.7',
        ['api.example.com'],
        443,
      ),
    ).toBe(true);
    expect(kernelAllows(compiled(pod + np + base), '203.0.113.7', ['api.example.com'], 443)).toBe(false);
  });

  it('domainNames in a Deny rule is a warning and never matches: no pattern is compiled', () => {
    const t = compiled(pod + cnp('deny-name', 'Admin', 10, '[{action: Deny, to: [{domainNames: [api.example.com]}]}]'));
    expect(t.fqdn).toBeUndefined();
  });
});

describe('patternMatches (upstream DomainName semantics)', () => {
  it.each([
    ['kubernetes.io', 'kubernetes.io', true],
    ['kubernetes.io', 'www.kubernetes.io', false],
    ['kubernetes.io', 'my-kubernetes.io', false],
    ['blog.kubernetes.io', 'www.kubernetes.io', false],
    ['*.kubernetes.io', 'www.kubernetes.io', true],
    ['*.kubernetes.io', 'latest.blog.kubernetes.io', true],
    ['*.kubernetes.io', 'kubernetes.io', false],
    ['*.kubernetes.io', 'wikipedia.org', false],
    ['*.Kubernetes.IO.', 'WWW.kubernetes.io', true],
  ])('%s vs %s', (p, n, want) => expect(patternMatches(p, n)).toBe(want));
});
