// The validated, normalized policy model that the evaluator and the compiler share.
// Kubernetes' three policy kinds are lowered to one shape: subject, ordered rules, peers, ports.
import type { Cidr } from '../base/pure.ts';
import type { Protocol } from './inventory.ts';

export type Operator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

export interface Requirement {
  key: string;
  operator: Operator;
  values: string[];
}

/** A label selector; empty (no labels, no expressions) selects everything. */
export interface Selector {
  matchLabels: Record<string, string>;
  matchExpressions: Requirement[];
}

/** Namespaces either by exact name (a NetworkPolicy's own namespace) or by label selector. */
export type NamespaceMatch = { name: string } | { selector: Selector };

/** Pods in matching namespaces whose labels match `pods`. */
export interface PodsPeer {
  type: 'pods';
  namespaces: NamespaceMatch;
  pods: Selector;
}

/** External addresses: inside one of `cidrs` and outside every `except`. Never matches a pod. */
export interface CidrPeer {
  type: 'cidr';
  cidrs: Cidr[];
  except: Cidr[];
}

/** An AdminNetworkPolicy `nodes` peer: accepted, matches nothing Weft can name (node IPs are not in the inventory). */
export interface NodesPeer {
  type: 'nodes';
}

export type Peer = PodsPeer | CidrPeer | NodesPeer;

export type PortSpec =
  | { type: 'range'; protocol: Protocol; from: number; to: number }
  /** A named container port of the destination pod; protocol null: the container port's own. */
  | { type: 'named'; protocol: Protocol | null; name: string };

export type Action = 'Allow' | 'Deny' | 'Pass';
export type Direction = 'ingress' | 'egress';
export type PolicyKind = 'AdminNetworkPolicy' | 'NetworkPolicy' | 'BaselineAdminNetworkPolicy';

export interface Rule {
  /** `ingress[0]`, `egress[2]` */
  label: string;
  /** The rule's own name (ANP/BANP rules have one). */
  ruleName?: string;
  action: Action;
  /** null: every peer, pods and external addresses alike. */
  peers: Peer[] | null;
  /** null: every protocol and port. */
  ports: PortSpec[] | null;
}

export interface Policy {
  kind: PolicyKind;
  /** NetworkPolicy only. */
  namespace?: string;
  name: string;
  /** ANP only; lower number = higher precedence. */
  priority: number;
  /** `weft.dev/mode: audit`: denies are reported, never enforced. */
  audit: boolean;
  subject: PodsPeer;
  ingress: Rule[];
  egress: Rule[];
  /** NetworkPolicy: the directions it isolates (policyTypes, explicit or implied). */
  isolates: { ingress: boolean; egress: boolean };
}

export interface PolicySet {
  /** Sorted by priority, then name: the order ANPs are met. */
  admin: Policy[];
  /** Sorted by namespace, then name. */
  network: Policy[];
  baseline: Policy | null;
}

/** Stable reference to a rule of a policy, for verdict attribution. */
export interface RuleRef {
  kind: PolicyKind;
  namespace?: string;
  name: string;
  /** `ingress[0]`, `egress[1]`, or `isolation` (the implicit deny of a NetworkPolicy-isolated pod). */
  rule: string;
}

export function ruleRef(p: Policy, rule: string): RuleRef {
  return p.namespace === undefined ? { kind: p.kind, name: p.name, rule } : { kind: p.kind, namespace: p.namespace, name: p.name, rule };
}

/**
 * The same policies with `weft.dev/mode: audit` lifted: what the site would enforce once the audit
 * step ends. Ops review this (connlist, explain) before they switch a default-deny on.
 */
export function enforceAudited(set: PolicySet): PolicySet {
  const lift = (p: Policy): Policy => (p.audit ? { ...p, audit: false } : p);
  return { admin: set.admin.map(lift), network: set.network.map(lift), baseline: set.baseline && lift(set.baseline) };
}
