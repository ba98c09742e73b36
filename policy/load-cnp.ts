// policy.networking.k8s.io/v1alpha2 ClusterNetworkPolicy -> the normalized Policy, validated as the
// upstream Go types and experimental-channel CRD (network-policy-api v0.2.0) validate it. Every
// check names the CRD rule it enforces, so an error can be matched against the CRD by hand.
import { PolicyError, subPath } from './errors.ts';
import type { Meta } from './load-common.ts';
import { readCidr, readSelector, ruleItems } from './load-common.ts';
import type { Action, Direction, Peer, Policy, PodsPeer, PortSpec, Rule, Tier } from './model.ts';
import { isObj, type Obj, type Reader } from './reader.ts';

const TIERS: readonly Tier[] = ['Admin', 'Baseline'];
const ACTIONS: readonly Action[] = ['Accept', 'Deny', 'Pass'];
/** spec.ingress, spec.egress, from, to, protocols, networks, domainNames: maxItems. */
const MAX_ITEMS = 25;
const INGRESS_PEERS = ['namespaces', 'pods'] as const;
const EGRESS_PEERS = ['namespaces', 'pods', 'nodes', 'networks', 'domainNames'] as const;
const PROTOCOL_FIELDS = ['tcp', 'udp', 'sctp', 'destinationNamedPort'] as const;
/**
 * DomainName's pattern, as the CRD writes it (`A-z` there also admits `[`, `\`, `]`, `^`, `_` and
 * a backquote in the first character of a label; kept, since the API server accepts what it accepts).
 */
const DOMAIN_NAME = /^(\*\.)?([a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.)+[a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.?$/;

/** Warnings (the manifests stay valid): a fail-closed peer, domainNames outside an Accept rule. */
export type Warn = (code: 'POLICY_UNKNOWN_PEER' | 'POLICY_DOMAIN_NAMES_ACTION', path: string, message: string, hint: string) => void;

export function warnInto(r: Reader, warnings: PolicyError[]): Warn {
  return (code, path, message, hint) => warnings.push(new PolicyError(code, { file: r.file, doc: r.doc, path }, message, hint));
}

export function loadClusterNetworkPolicy(r: Reader, obj: Obj, path: string, meta: Meta, warn: Warn): Policy | null {
  const spec = r.object(obj, 'spec', path, true);
  if (!spec) return null;
  const sp = subPath(path, 'spec');
  r.known(spec, ['tier', 'priority', 'subject', 'ingress', 'egress'], sp);
  const tier = r.string(spec, 'tier', sp, true);
  if (tier !== null && !TIERS.includes(tier as Tier))
    r.fail(
      'POLICY_BAD_VALUE',
      subPath(sp, 'tier'),
      `unknown tier "${tier}"`,
      'use Admin (before NetworkPolicy) or Baseline (after it)',
      'enum: [Admin, Baseline]',
    );
  const priority = r.integer(spec, 'priority', sp, true);
  if (priority !== null && (priority < 0 || priority > 1000))
    r.fail(
      'POLICY_BAD_PRIORITY',
      subPath(sp, 'priority'),
      `priority ${priority} is out of range`,
      'priority is 0-1000; lower numbers take precedence',
      'minimum: 0, maximum: 1000',
    );
  const subject = readSubject(r, spec, sp);
  const rules = (dir: Direction) => {
    const key = dir;
    const items = ruleItems(r, spec, key, sp);
    if (items.length > MAX_ITEMS)
      r.fail(
        'POLICY_BAD_VALUE',
        subPath(sp, key),
        `${items.length} ${key} rules; at most ${MAX_ITEMS} are allowed`,
        'split the policy in two',
        `maxItems: ${MAX_ITEMS}`,
      );
    return items.map(({ item, path: p }, i) => readRule(r, item, p, dir, i, warn));
  };
  const ingress = rules('ingress');
  const egress = rules('egress');
  if (!subject || tier === null || priority === null) return null;
  return {
    kind: 'ClusterNetworkPolicy',
    tier: tier as Tier,
    name: meta.name,
    priority,
    audit: meta.audit,
    subject,
    ingress,
    egress,
    isolates: { ingress: false, egress: false },
  };
}

/** Fields of `obj` among `keys` that are set (null counts as unset, as the API server prunes it). */
function present(obj: Obj, keys: readonly string[]): string[] {
  return keys.filter((k) => obj[k] !== undefined && obj[k] !== null);
}

function readSubject(r: Reader, spec: Obj, sp: string): PodsPeer | null {
  const subject = r.object(spec, 'subject', sp, true);
  if (!subject) return null;
  const p = subPath(sp, 'subject');
  r.known(subject, ['namespaces', 'pods'], p);
  const set = present(subject, ['namespaces', 'pods']);
  if (set.length !== 1) {
    r.fail(
      set.length === 0 ? 'POLICY_MISSING_FIELD' : 'POLICY_PEER_CONFLICT',
      p,
      'subject needs exactly one of namespaces, pods',
      'namespaces: <selector> or pods: {namespaceSelector, podSelector}',
      set.length === 0 ? 'minProperties: 1' : 'maxProperties: 1',
    );
    return null;
  }
  return readPodsOrNamespaces(r, subject, p, set[0] as 'namespaces' | 'pods');
}

function readPodsOrNamespaces(r: Reader, obj: Obj, path: string, key: 'namespaces' | 'pods'): PodsPeer | null {
  const all = { matchLabels: {}, matchExpressions: [] };
  if (key === 'namespaces') return { type: 'pods', namespaces: { selector: readSelector(r, obj, 'namespaces', path) }, pods: all };
  const pods = r.object(obj, 'pods', path);
  if (!pods) return null;
  const pp = subPath(path, 'pods');
  r.known(pods, ['namespaceSelector', 'podSelector'], pp);
  // NamespacedPod: podSelector is required, namespaceSelector optional (empty: every namespace).
  if (pods.podSelector === undefined || pods.podSelector === null)
    r.fail(
      'POLICY_MISSING_FIELD',
      subPath(pp, 'podSelector'),
      'podSelector is required',
      'write podSelector: {} to select every pod',
      'required: [podSelector]',
    );
  return { type: 'pods', namespaces: { selector: readSelector(r, pods, 'namespaceSelector', pp) }, pods: readSelector(r, pods, 'podSelector', pp) };
}

function readRule(r: Reader, rule: Obj, path: string, dir: Direction, index: number, warn: Warn): Rule {
  const peersKey = dir === 'ingress' ? 'from' : 'to';
  r.known(rule, ['name', 'action', peersKey, 'protocols'], path);
  const ruleName = r.string(rule, 'name', path) ?? undefined;
  if (ruleName !== undefined && ruleName.length > 100)
    r.fail('POLICY_BAD_VALUE', subPath(path, 'name'), `rule name is ${ruleName.length} characters long`, 'at most 100 characters', 'maxLength: 100');
  const actionText = r.string(rule, 'action', path, true);
  if (actionText !== null && !ACTIONS.includes(actionText as Action))
    r.fail('POLICY_BAD_ACTION', subPath(path, 'action'), `unknown action "${actionText}"`, 'use Accept, Deny or Pass', 'enum: [Accept, Deny, Pass]');
  const action = (ACTIONS.includes(actionText as Action) ? actionText : 'Deny') as Action;
  const label = `${dir}[${index}]`;

  const peerItems = r.list(rule, peersKey, path, true);
  const pp = subPath(path, peersKey);
  checkCount(r, peerItems, pp, 'peer');
  const peers: Peer[] = [];
  let unknownPeer = false;
  let addressPeer = false;
  for (const { item, path: p } of r.objects(peerItems ?? [], pp)) {
    const read = readPeer(r, item, p, dir);
    if (read === 'unknown') {
      unknownPeer = true;
      warn(
        'POLICY_UNKNOWN_PEER',
        p,
        `peer with no field Weft understands (${Object.keys(item).join(', ')}): ${label} fails closed`,
        action === 'Accept' ? 'the peer matches nothing' : `the ${action} rule denies all traffic; upgrade Weft or remove the peer`,
      );
      continue;
    }
    if (read === null) continue;
    if (read.type !== 'pods') addressPeer = true;
    if (read.type === 'domains' && action !== 'Accept')
      warn(
        'POLICY_DOMAIN_NAMES_ACTION',
        subPath(p, 'domainNames'),
        `domainNames in a ${action} rule`,
        'domainNames is supported in Accept rules only: use an Accept rule with a lower-precedence Deny',
      );
    peers.push(read);
  }

  const protoItems = r.list(rule, 'protocols', path);
  const prp = subPath(path, 'protocols');
  checkCount(r, protoItems, prp, 'protocol');
  const ports = protoItems
    ? r
        .objects(protoItems, prp)
        .map(({ item, path: p }) => readProtocol(r, item, p))
        .filter((p): p is PortSpec => p !== null)
    : null;
  if (dir === 'egress' && addressPeer && ports?.some((s) => s.type === 'named'))
    r.fail(
      'POLICY_ENDPORT_NAMED',
      path,
      'networks/nodes/domainNames peer cannot be set with namedPorts since there are no namedPorts for networks/nodes/domainNames',
      'put the networks/nodes/domainNames peers in a rule of their own, with numbered ports',
      '!(self.to.exists(peer, has(peer.networks) || has(peer.nodes) || has(peer.domainNames)) && has(self.protocols) && self.protocols.exists(protocol, has(protocol.destinationNamedPort)))',
    );

  const out: Rule = { label, ...(ruleName !== undefined && { ruleName }), action, peers, ports };
  if (!unknownPeer) return out;
  // Upstream's fail-closed rule: an Accept treats the unknown peer as matching nothing; a Deny or
  // Pass becomes "Deny all".
  return action === 'Accept' ? { ...out, failClosed: true } : { ...out, action: 'Deny', peers: null, ports: null, failClosed: true };
}

/** from, to, protocols: minItems 1, maxItems 25. */
function checkCount(r: Reader, items: unknown[] | null, path: string, what: string): void {
  if (items === null) return;
  if (items.length === 0)
    r.fail('POLICY_EMPTY_PEER', path, `an empty list of ${what}s`, `list at least one ${what}, or leave the field out where it is optional`, 'minItems: 1');
  else if (items.length > MAX_ITEMS)
    r.fail('POLICY_BAD_VALUE', path, `${items.length} ${what}s; at most ${MAX_ITEMS} are allowed`, 'split the rule in two', `maxItems: ${MAX_ITEMS}`);
}

/** A peer; 'unknown' when it holds only fields this version does not know (a newer CRD's). */
function readPeer(r: Reader, peer: Obj, path: string, dir: Direction): Peer | null | 'unknown' {
  const kinds: readonly string[] = dir === 'ingress' ? INGRESS_PEERS : EGRESS_PEERS;
  const set = present(peer, kinds);
  const keys = Object.keys(peer);
  // Only fields no version of this CRD has (a newer CRD's peer): fail closed, as upstream asks.
  // A field of the other direction, or a known one beside others, is an error.
  if (set.length === 0 && keys.length > 0 && !keys.some((k) => (EGRESS_PEERS as readonly string[]).includes(k))) return 'unknown';
  r.known(peer, kinds, path);
  if (set.length !== 1) {
    if (set.length > 1 || keys.every((k) => kinds.includes(k)))
      r.fail(
        set.length === 0 ? 'POLICY_EMPTY_PEER' : 'POLICY_PEER_CONFLICT',
        path,
        `a peer needs exactly one of ${kinds.join(', ')}`,
        'write each kind of peer as its own list item',
        set.length === 0 ? 'minProperties: 1' : 'maxProperties: 1',
      );
    return null;
  }
  const key = set[0];
  if (key === 'namespaces' || key === 'pods') return readPodsOrNamespaces(r, peer, path, key);
  if (key === 'nodes') return { type: 'nodes', nodes: readSelector(r, peer, 'nodes', path) };
  const list = r.list(peer, key, path) ?? [];
  const lp = subPath(path, key);
  checkCount(r, list, lp, key === 'networks' ? 'CIDR' : 'domain name');
  const seen = new Set<unknown>();
  list.forEach((v, i) => {
    if (seen.has(v)) r.fail('POLICY_DUPLICATE', subPath(lp, i), `${JSON.stringify(v)} is listed twice`, 'list each entry once', 'x-kubernetes-list-type: set');
    seen.add(v);
  });
  if (key === 'networks') {
    const cidrs = list.flatMap((c, i) => {
      const p = subPath(lp, i);
      if (typeof c === 'string' && c.length > 43) {
        r.fail('POLICY_BAD_CIDR', p, `CIDR is ${c.length} characters long`, 'at most 43 characters', 'maxLength: 43');
        return [];
      }
      const cidr = readCidr(r, c, p);
      return cidr ? [cidr] : [];
    });
    return { type: 'cidr', cidrs, except: [], pods: true };
  }
  const names = list.flatMap((n, i) => {
    if (typeof n === 'string' && DOMAIN_NAME.test(n)) return [n];
    r.fail(
      'POLICY_BAD_VALUE',
      subPath(lp, i),
      `invalid domain name ${JSON.stringify(n)}`,
      'an exact name (kubernetes.io) or "*." and a name (*.kubernetes.io); the wildcard matches whole labels and only as a prefix',
      `pattern: ${DOMAIN_NAME.source}`,
    );
    return [];
  });
  return { type: 'domains', names };
}

function readProtocol(r: Reader, item: Obj, path: string): PortSpec | null {
  r.known(item, PROTOCOL_FIELDS, path);
  const set = present(item, PROTOCOL_FIELDS);
  if (set.length !== 1) {
    r.fail(
      'POLICY_BAD_PORT',
      path,
      `a protocol needs exactly one of ${PROTOCOL_FIELDS.join(', ')}`,
      'write each protocol or named port as its own list item',
      set.length === 0 ? 'minProperties: 1' : 'maxProperties: 1',
    );
    return null;
  }
  if (set[0] === 'destinationNamedPort') {
    // The CRD puts no pattern on it; a name no container port can have simply matches nothing.
    const name = r.string(item, 'destinationNamedPort', path);
    return name === null ? null : { type: 'named', protocol: null, name };
  }
  const protocol = set[0].toUpperCase() as 'TCP' | 'UDP' | 'SCTP';
  const body = r.object(item, set[0], path);
  if (!body) return null;
  const bp = subPath(path, set[0]);
  r.known(body, ['destinationPort'], bp);
  const dport = r.object(body, 'destinationPort', bp);
  if (!dport) {
    if (!isObj(body.destinationPort))
      r.fail('POLICY_BAD_PORT', bp, `${set[0]} needs destinationPort`, `write ${set[0]}: {destinationPort: {number: 443}} or a range`, 'minProperties: 1');
    return null;
  }
  const dp = subPath(bp, 'destinationPort');
  r.known(dport, ['number', 'range'], dp);
  const which = present(dport, ['number', 'range']);
  if (which.length !== 1) {
    r.fail(
      'POLICY_BAD_PORT',
      dp,
      'destinationPort needs exactly one of number, range',
      'number: 443, or range: {start: 8000, end: 8080}',
      which.length === 0 ? 'minProperties: 1' : 'maxProperties: 1',
    );
    return null;
  }
  if (which[0] === 'number') {
    const n = portNumber(r, dport, 'number', dp);
    return n === null ? null : { type: 'range', protocol, from: n, to: n };
  }
  const range = r.object(dport, 'range', dp);
  if (!range) return null;
  const rp = subPath(dp, 'range');
  r.known(range, ['start', 'end'], rp);
  const start = portNumber(r, range, 'start', rp);
  const end = portNumber(r, range, 'end', rp);
  if (start === null || end === null) return null;
  if (start >= end) {
    r.fail(
      'POLICY_ENDPORT_BEFORE_PORT',
      rp,
      `start ${start} is not less than end ${end}`,
      'Start port must be less than End port; write a single port as number',
      'self.start < self.end',
    );
    return null;
  }
  return { type: 'range', protocol, from: start, to: end };
}

/** A port field: required, an integer 1-65535. */
function portNumber(r: Reader, obj: Obj, key: string, path: string): number | null {
  const n = r.integer(obj, key, path, true);
  if (n !== null && (n < 1 || n > 65535)) {
    r.fail('POLICY_BAD_PORT', subPath(path, key), `port ${n} is out of range`, 'ports are 1-65535', 'minimum: 1, maximum: 65535');
    return null;
  }
  return n;
}
