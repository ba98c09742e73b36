// networking.k8s.io/v1 NetworkPolicy -> the normalized Policy.
import { subPath } from './errors.ts';
import type { Meta } from './load-common.ts';
import { checkPortName, readCidr, readExcepts, readPortNumber, readProtocol, readSelector, ruleItems } from './load-common.ts';
import type { Direction, Peer, Policy, PortSpec, Rule } from './model.ts';
import type { Obj, Reader } from './reader.ts';

export function loadNetworkPolicy(r: Reader, obj: Obj, path: string, meta: Meta): Policy | null {
  const spec = r.object(obj, 'spec', path, true);
  if (!spec) return null;
  const sp = subPath(path, 'spec');
  r.known(spec, ['podSelector', 'policyTypes', 'ingress', 'egress'], sp);
  const podSelector = readSelector(r, spec, 'podSelector', sp);
  const ingress = ruleItems(r, spec, 'ingress', sp).map(({ item, path: p }, i) => readRule(r, item, p, 'ingress', i, meta.namespace));
  const egress = ruleItems(r, spec, 'egress', sp).map(({ item, path: p }, i) => readRule(r, item, p, 'egress', i, meta.namespace));

  // policyTypes absent or empty: Ingress always, Egress when the policy has egress rules (the API
  // server's defaulting, which tests len(policyTypes) == 0: an empty list is defaulted too).
  let isolates = { ingress: true, egress: egress.length > 0 };
  const types = r.list(spec, 'policyTypes', sp);
  if (types && types.length > 0) {
    isolates = { ingress: false, egress: false };
    types.forEach((t, i) => {
      if (t === 'Ingress') isolates.ingress = true;
      else if (t === 'Egress') isolates.egress = true;
      else r.fail('POLICY_BAD_POLICY_TYPE', subPath(subPath(sp, 'policyTypes'), i), `unknown policy type ${JSON.stringify(t)}`, 'use Ingress and/or Egress');
    });
  }
  return {
    kind: 'NetworkPolicy',
    namespace: meta.namespace,
    name: meta.name,
    priority: 0,
    audit: meta.audit,
    subject: { type: 'pods', namespaces: { name: meta.namespace }, pods: podSelector },
    // Rules of a direction the policy does not isolate have no effect (Kubernetes ignores them).
    ingress: isolates.ingress ? ingress : [],
    egress: isolates.egress ? egress : [],
    isolates,
  };
}

function readRule(r: Reader, rule: Obj, path: string, dir: Direction, index: number, namespace: string): Rule {
  const peersKey = dir === 'ingress' ? 'from' : 'to';
  r.known(rule, [peersKey, 'ports'], path);
  const peerItems = r.list(rule, peersKey, path);
  const portItems = r.list(rule, 'ports', path);
  // An empty or absent from/to means every peer; empty or absent ports means every port.
  const peers =
    peerItems && peerItems.length > 0
      ? r
          .objects(peerItems, subPath(path, peersKey))
          .map(({ item, path: p }) => readPeer(r, item, p, namespace))
          .filter((p): p is Peer => p !== null)
      : null;
  const ports =
    portItems && portItems.length > 0
      ? r
          .objects(portItems, subPath(path, 'ports'))
          .map(({ item, path: p }) => readPort(r, item, p))
          .filter((p): p is PortSpec => p !== null)
      : null;
  return { label: `${dir}[${index}]`, action: 'Accept', peers, ports };
}

function readPeer(r: Reader, peer: Obj, path: string, namespace: string): Peer | null {
  r.known(peer, ['podSelector', 'namespaceSelector', 'ipBlock'], path);
  const hasPods = peer.podSelector !== undefined && peer.podSelector !== null;
  const hasNs = peer.namespaceSelector !== undefined && peer.namespaceSelector !== null;
  const ipBlock = r.object(peer, 'ipBlock', path);
  if (ipBlock) {
    if (hasPods || hasNs) {
      r.fail('POLICY_PEER_CONFLICT', path, 'ipBlock cannot be combined with podSelector or namespaceSelector', 'write them as two separate peers');
      return null;
    }
    const bp = subPath(path, 'ipBlock');
    r.known(ipBlock, ['cidr', 'except'], bp);
    const raw = ipBlock.cidr;
    if (raw === undefined || raw === null) {
      r.fail('POLICY_MISSING_FIELD', subPath(bp, 'cidr'), 'cidr is required', 'e.g. cidr: 10.0.0.0/8');
      return null;
    }
    const cidr = readCidr(r, raw, subPath(bp, 'cidr'));
    if (!cidr) return null;
    const except = readExcepts(r, cidr, r.list(ipBlock, 'except', bp) ?? [], subPath(bp, 'except'));
    return { type: 'cidr', cidrs: [cidr], except };
  }
  if (!hasPods && !hasNs) {
    r.fail(
      'POLICY_EMPTY_PEER',
      path,
      'a peer needs podSelector, namespaceSelector or ipBlock',
      'to allow every peer, leave from/to out of the rule instead of listing an empty peer',
    );
    return null;
  }
  const pods = readSelector(r, peer, 'podSelector', path);
  // podSelector alone: pods of the policy's namespace; namespaceSelector alone: every pod of those namespaces.
  const namespaces = hasNs ? { selector: readSelector(r, peer, 'namespaceSelector', path) } : { name: namespace };
  return { type: 'pods', namespaces, pods };
}

function readPort(r: Reader, port: Obj, path: string): PortSpec | null {
  r.known(port, ['protocol', 'port', 'endPort'], path);
  const protocol = readProtocol(r, port, path);
  const raw = port.port;
  const endPort = readPortNumber(r, port, 'endPort', path);
  if (protocol === null) return null;
  if (raw === undefined || raw === null) {
    if (endPort !== null) r.fail('POLICY_ENDPORT_NAMED', subPath(path, 'endPort'), 'endPort needs a numeric port', 'set port to the first port of the range');
    // Port 0 included so "every port" is one table entry, not a split range.
    return { type: 'range', protocol, from: 0, to: 65535 };
  }
  if (typeof raw === 'string') {
    if (!checkPortName(r, raw, subPath(path, 'port'))) return null;
    if (endPort !== null) {
      r.fail('POLICY_ENDPORT_NAMED', subPath(path, 'endPort'), `endPort cannot be used with the named port "${raw}"`, 'use a numeric port with endPort');
      return null;
    }
    return { type: 'named', protocol, name: raw };
  }
  const from = readPortNumber(r, port, 'port', path);
  if (from === null) return null;
  if (endPort !== null && endPort < from) {
    r.fail('POLICY_ENDPORT_BEFORE_PORT', subPath(path, 'endPort'), `endPort ${endPort} < port ${from}`, 'endPort must be >= port');
    return null;
  }
  return { type: 'range', protocol, from, to: endPort ?? from };
}
