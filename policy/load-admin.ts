// policy.networking.k8s.io/v1alpha1 AdminNetworkPolicy and BaselineAdminNetworkPolicy (deprecated) ->
// the normalized Policy of the ClusterNetworkPolicy they translate to: ANP -> tier Admin, BANP ->
// tier Baseline at priority 0, Allow -> Accept. Validated as v1alpha1 (its own limits and paths),
// so an error points at what the user wrote; convert.ts writes the same translation as YAML.
import { subPath } from './errors.ts';
import type { Meta } from './load-common.ts';
import { checkPortName, readCidr, readPortNumber, readProtocol, readSelector, ruleItems } from './load-common.ts';
import type { Action, Direction, Peer, Policy, PodsPeer, PortSpec, Rule } from './model.ts';
import type { Obj, Reader } from './reader.ts';

export type AdminKind = 'AdminNetworkPolicy' | 'BaselineAdminNetworkPolicy';
type V1Action = 'Allow' | 'Deny' | 'Pass';
const ACTION_V2: Record<V1Action, Action> = { Allow: 'Accept', Deny: 'Deny', Pass: 'Pass' };

export function loadAdminPolicy(r: Reader, obj: Obj, path: string, meta: Meta, kind: AdminKind): Policy | null {
  const spec = r.object(obj, 'spec', path, true);
  if (!spec) return null;
  const sp = subPath(path, 'spec');
  const anp = kind === 'AdminNetworkPolicy';
  r.known(spec, anp ? ['priority', 'subject', 'ingress', 'egress'] : ['subject', 'ingress', 'egress'], sp);
  if (!anp && meta.name !== 'default') {
    r.fail(
      'POLICY_BANP_NAME',
      subPath(path, 'metadata.name'),
      `BaselineAdminNetworkPolicy is named "${meta.name}"`,
      'the baseline is a cluster singleton and must be named "default"',
    );
  }
  let priority = 0;
  if (anp) {
    const p = r.integer(spec, 'priority', sp, true);
    if (p !== null && (p < 0 || p > 1000))
      r.fail('POLICY_BAD_PRIORITY', subPath(sp, 'priority'), `priority ${p} is out of range`, 'priority is 0-1000; lower numbers take precedence');
    priority = p ?? 0;
  }
  const subject = readSubject(r, spec, sp);
  const actions: V1Action[] = anp ? ['Allow', 'Deny', 'Pass'] : ['Allow', 'Deny'];
  const ingress = ruleItems(r, spec, 'ingress', sp).map(({ item, path: p }, i) => readRule(r, item, p, 'ingress', i, actions));
  const egress = ruleItems(r, spec, 'egress', sp).map(({ item, path: p }, i) => readRule(r, item, p, 'egress', i, actions));
  for (const [key, n] of [
    ['ingress', ingress.length],
    ['egress', egress.length],
  ] as const) {
    if (n > 100) r.fail('POLICY_BAD_VALUE', subPath(sp, key), `${n} ${key} rules; at most 100 are allowed`, 'split the policy');
  }
  if (!subject) return null;
  return {
    kind: 'ClusterNetworkPolicy',
    tier: anp ? 'Admin' : 'Baseline',
    name: meta.name,
    priority,
    audit: meta.audit,
    subject,
    ingress,
    egress,
    isolates: { ingress: false, egress: false },
  };
}

function readSubject(r: Reader, spec: Obj, sp: string): PodsPeer | null {
  const subject = r.object(spec, 'subject', sp, true);
  if (!subject) return null;
  const p = subPath(sp, 'subject');
  r.known(subject, ['namespaces', 'pods'], p);
  return readNamespacedPeer(r, subject, p, 'subject');
}

/** `namespaces: <selector>` or `pods: {namespaceSelector, podSelector}`, exactly one. */
function readNamespacedPeer(r: Reader, obj: Obj, path: string, what: 'subject' | 'peer'): PodsPeer | null {
  const present = ['namespaces', 'pods'].filter((k) => obj[k] !== undefined && obj[k] !== null);
  if (present.length !== 1) {
    r.fail(
      present.length === 0 ? 'POLICY_MISSING_FIELD' : 'POLICY_PEER_CONFLICT',
      path,
      `${what} needs exactly one of namespaces, pods`,
      'namespaces: <selector> or pods: {namespaceSelector, podSelector}',
    );
    return null;
  }
  if (present[0] === 'namespaces') {
    return { type: 'pods', namespaces: { selector: readSelector(r, obj, 'namespaces', path) }, pods: { matchLabels: {}, matchExpressions: [] } };
  }
  const pods = r.object(obj, 'pods', path);
  if (!pods) return null;
  const pp = subPath(path, 'pods');
  r.known(pods, ['namespaceSelector', 'podSelector'], pp);
  // Both selectors are required by the CRD, but upstream's own conformance manifests leave one out
  // and mean "all": an absent selector is the empty one, as in NetworkPolicy.
  return { type: 'pods', namespaces: { selector: readSelector(r, pods, 'namespaceSelector', pp) }, pods: readSelector(r, pods, 'podSelector', pp) };
}

function readRule(r: Reader, rule: Obj, path: string, dir: Direction, index: number, actions: V1Action[]): Rule {
  const peersKey = dir === 'ingress' ? 'from' : 'to';
  r.known(rule, ['name', 'action', peersKey, 'ports'], path);
  const ruleName = r.string(rule, 'name', path);
  const action = r.string(rule, 'action', path, true);
  if (action !== null && !actions.includes(action as V1Action)) {
    r.fail('POLICY_BAD_ACTION', subPath(path, 'action'), `unknown action "${action}"`, `use ${actions.join(', ')}`);
  }
  const peerItems = r.list(rule, peersKey, path, true) ?? [];
  if (rule[peersKey] !== undefined && peerItems.length === 0)
    r.fail('POLICY_EMPTY_PEER', subPath(path, peersKey), `${peersKey} needs at least one peer`, 'use namespaces: {} to match every pod');
  const peers = r
    .objects(peerItems, subPath(path, peersKey))
    .map(({ item, path: p }) => readPeer(r, item, p, dir))
    .filter((p): p is Peer => p !== null);
  const portItems = r.list(rule, 'ports', path);
  if (portItems && portItems.length === 0) r.fail('POLICY_BAD_PORT', subPath(path, 'ports'), 'ports is an empty list', 'leave ports out to match every port');
  const ports = portItems
    ? r
        .objects(portItems, subPath(path, 'ports'))
        .map(({ item, path: p }) => readPort(r, item, p))
        .filter((p): p is PortSpec => p !== null)
    : null;
  return { label: `${dir}[${index}]`, ...(ruleName !== null && { ruleName }), action: ACTION_V2[(action ?? 'Deny') as V1Action] ?? 'Deny', peers, ports };
}

function readPeer(r: Reader, peer: Obj, path: string, dir: Direction): Peer | null {
  const kinds = dir === 'ingress' ? ['namespaces', 'pods'] : ['namespaces', 'pods', 'nodes', 'networks'];
  r.known(peer, kinds, path);
  const present = kinds.filter((k) => peer[k] !== undefined && peer[k] !== null);
  if (present.length !== 1) {
    r.fail(
      present.length === 0 ? 'POLICY_EMPTY_PEER' : 'POLICY_PEER_CONFLICT',
      path,
      `a peer needs exactly one of ${kinds.join(', ')}`,
      'write each kind of peer as its own list item',
    );
    return null;
  }
  if (present[0] === 'nodes') return { type: 'nodes', nodes: readSelector(r, peer, 'nodes', path) };
  if (present[0] === 'networks') {
    const list = r.list(peer, 'networks', path) ?? [];
    if (list.length === 0) r.fail('POLICY_EMPTY_PEER', subPath(path, 'networks'), 'networks needs at least one CIDR', 'e.g. - 10.0.0.0/8');
    const cidrs = list.map((c, i) => readCidr(r, c, subPath(subPath(path, 'networks'), i))).filter((c) => c !== null);
    return { type: 'cidr', cidrs, except: [], pods: true };
  }
  return readNamespacedPeer(r, peer, path, 'peer');
}

function readPort(r: Reader, port: Obj, path: string): PortSpec | null {
  const kinds = ['portNumber', 'namedPort', 'portRange'];
  r.known(port, kinds, path);
  const present = kinds.filter((k) => port[k] !== undefined && port[k] !== null);
  if (present.length !== 1) {
    r.fail('POLICY_BAD_PORT', path, `a port needs exactly one of ${kinds.join(', ')}`, 'write each port as its own list item');
    return null;
  }
  if (present[0] === 'namedPort') {
    const name = r.string(port, 'namedPort', path);
    return name !== null && checkPortName(r, name, subPath(path, 'namedPort')) ? { type: 'named', protocol: null, name } : null;
  }
  const body = r.object(port, present[0], path);
  if (!body) return null;
  const bp = subPath(path, present[0]);
  const protocol = readProtocol(r, body, bp);
  if (present[0] === 'portNumber') {
    r.known(body, ['protocol', 'port'], bp);
    const n = readPortNumber(r, body, 'port', bp, true);
    return n === null || protocol === null ? null : { type: 'range', protocol, from: n, to: n };
  }
  r.known(body, ['protocol', 'start', 'end'], bp);
  const start = readPortNumber(r, body, 'start', bp, true);
  const end = readPortNumber(r, body, 'end', bp, true);
  if (start === null || end === null || protocol === null) return null;
  if (end < start) {
    r.fail('POLICY_ENDPORT_BEFORE_PORT', subPath(bp, 'end'), `end ${end} < start ${start}`, 'end must be >= start');
    return null;
  }
  return { type: 'range', protocol, from: start, to: end };
}
