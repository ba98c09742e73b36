// v1alpha1 AdminNetworkPolicy / BaselineAdminNetworkPolicy -> the v1alpha2 ClusterNetworkPolicy
// object that means the same, for `weft policy convert`. The same mapping load-admin.ts applies when
// it reads a deprecated object: ANP -> tier Admin (same priority), BANP -> tier Baseline priority 0,
// Allow -> Accept, ports -> protocols, an absent pods selector -> {} (every pod or namespace).
// Input must already be valid v1alpha1 (loadPolicies); what v1alpha2 cannot say exactly (its
// 25-item limits, a named port beside an address peer) is a POLICY_CONVERT error.
import { stringify } from 'yaml';
import { PolicyError, subPath, type Where } from './errors.ts';
import { isObj, type Obj } from './reader.ts';

export const CNP_API_VERSION = 'policy.networking.k8s.io/v1alpha2';
const MAX_ITEMS = 25;

export interface Converted {
  object: Obj;
  errors: PolicyError[];
}

/** Objects as one YAML stream, a document each: what `weft policy convert` writes. */
export function manifestsYaml(objects: readonly unknown[]): string {
  return objects.map((o) => stringify(o)).join('---\n');
}

export function isDeprecatedPolicy(o: unknown): o is Obj {
  return isObj(o) && (o.kind === 'AdminNetworkPolicy' || o.kind === 'BaselineAdminNetworkPolicy');
}

/** `where`: the file and document the object came from, with the path of the object in it. */
export function convertAdminPolicy(obj: Obj, where: Where): Converted {
  const errors: PolicyError[] = [];
  const fail = (path: string, message: string, hint: string) =>
    errors.push(new PolicyError('POLICY_CONVERT', { ...where, path: subPath(where.path, path) }, message, hint));
  const limit = (list: unknown[], path: string, what: string) => {
    if (list.length > MAX_ITEMS) fail(path, `${list.length} ${what}; a ClusterNetworkPolicy allows ${MAX_ITEMS}`, 'split it in two before converting');
  };
  const anp = obj.kind === 'AdminNetworkPolicy';
  const spec = (obj.spec ?? {}) as Obj;
  const direction = (key: 'ingress' | 'egress'): Obj[] | undefined => {
    const rules = spec[key] as Obj[] | undefined | null;
    if (!rules) return undefined;
    limit(rules, `spec.${key}`, `${key} rules`);
    return rules.map((rule, i) => convertRule(rule, `spec.${key}[${i}]`, key === 'ingress' ? 'from' : 'to', fail, limit));
  };
  const ingress = direction('ingress');
  const egress = direction('egress');
  const out: Obj = {
    apiVersion: CNP_API_VERSION,
    kind: 'ClusterNetworkPolicy',
    metadata: obj.metadata,
    spec: {
      tier: anp ? 'Admin' : 'Baseline',
      priority: anp ? spec.priority : 0,
      subject: peer(spec.subject as Obj),
      ...(ingress && { ingress }),
      ...(egress && { egress }),
    },
  };
  return { object: out, errors };
}

type Fail = (path: string, message: string, hint: string) => void;
type Limit = (list: unknown[], path: string, what: string) => void;

function convertRule(rule: Obj, path: string, peersKey: 'from' | 'to', fail: Fail, limit: Limit): Obj {
  const peers = (rule[peersKey] ?? []) as Obj[];
  limit(peers, `${path}.${peersKey}`, 'peers');
  const ports = rule.ports as Obj[] | undefined | null;
  if (ports) limit(ports, `${path}.ports`, 'ports');
  const protocols = ports?.map(protocol);
  if (peersKey === 'to' && peers.some((p) => p.networks || p.nodes) && protocols?.some((p) => 'destinationNamedPort' in p))
    fail(path, 'a named port beside a networks or nodes peer', 'ClusterNetworkPolicy forbids it: move the networks/nodes peers to a rule of their own');
  for (const [i, p] of peers.entries()) {
    const networks = p.networks as unknown[] | undefined;
    if (networks) limit(networks, `${path}.${peersKey}[${i}].networks`, 'CIDRs');
  }
  return {
    ...(rule.name !== undefined && { name: rule.name }),
    action: rule.action === 'Allow' ? 'Accept' : rule.action,
    [peersKey]: peers.map(peer),
    ...(protocols && { protocols }),
  };
}

/** A subject or peer: `pods` gets both of its selectors written out. */
function peer(p: Obj): Obj {
  if (!isObj(p.pods)) return p;
  return { pods: { namespaceSelector: p.pods.namespaceSelector ?? {}, podSelector: p.pods.podSelector ?? {} } };
}

function protocol(p: Obj): Obj {
  if (typeof p.namedPort === 'string') return { destinationNamedPort: p.namedPort };
  const body = (p.portNumber ?? p.portRange) as Obj;
  const key = String(body.protocol ?? 'TCP').toLowerCase();
  if (isObj(p.portNumber)) return { [key]: { destinationPort: { number: body.port } } };
  // v1alpha2 ranges need start < end: a one-port range is a number.
  if (body.start === body.end) return { [key]: { destinationPort: { number: body.start } } };
  return { [key]: { destinationPort: { range: { start: body.start, end: body.end } } } };
}
