// The validated, normalized policy model that the evaluator and the compiler share.
// NetworkPolicy and ClusterNetworkPolicy (v1alpha2; the deprecated v1alpha1 AdminNetworkPolicy and
// BaselineAdminNetworkPolicy are translated to it on load) are lowered to one shape: subject,
// ordered rules, peers, ports.
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

/**
 * Addresses inside one of `cidrs` and outside every `except`. A NetworkPolicy ipBlock names external
 * addresses only and never matches a pod; a ClusterNetworkPolicy `networks` peer (`pods: true`) also
 * matches a pod by its IPs, as upstream says ("cluster-internal traffic will be checked against the
 * rule as well").
 */
export interface CidrPeer {
  type: 'cidr';
  cidrs: Cidr[];
  except: Cidr[];
  pods?: true;
}

/** A ClusterNetworkPolicy `nodes` peer: the addresses (status.addresses) of the Nodes whose labels match. */
export interface NodesPeer {
  type: 'nodes';
  nodes: Selector;
}

/**
 * A ClusterNetworkPolicy `domainNames` peer (exact names, or `*.` + a suffix of one or more labels).
 * It matches the addresses the kernel learned from DNS answers for those names (docs/datapath.md "FQDN egress").
 */
export interface DomainsPeer {
  type: 'domains';
  names: string[];
}

export type Peer = PodsPeer | CidrPeer | NodesPeer | DomainsPeer;

export type PortSpec =
  | { type: 'range'; protocol: Protocol; from: number; to: number }
  /** A named container port of the destination pod; protocol null: the container port's own. */
  | { type: 'named'; protocol: Protocol | null; name: string };

/** ClusterNetworkPolicy actions; a NetworkPolicy rule is an Accept. */
export type Action = 'Accept' | 'Deny' | 'Pass';
export type Direction = 'ingress' | 'egress';
export type PolicyKind = 'ClusterNetworkPolicy' | 'NetworkPolicy';
/** ClusterNetworkPolicy spec.tier: Admin is met before NetworkPolicy, Baseline after. */
export type Tier = 'Admin' | 'Baseline';

export interface Rule {
  /** `ingress[0]`, `egress[2]` */
  label: string;
  /** The rule's own name (ClusterNetworkPolicy rules may have one). */
  ruleName?: string;
  action: Action;
  /**
   * Set when a peer had no field Weft understands (a newer CRD's): the rule was made to fail closed,
   * an Accept matching nothing through that peer, a Deny or Pass denying everything.
   */
  failClosed?: true;
  /** null: every peer, pods and external addresses alike. */
  peers: Peer[] | null;
  /** null: every protocol and port. */
  ports: PortSpec[] | null;
}

export interface Policy {
  kind: PolicyKind;
  /** ClusterNetworkPolicy only. */
  tier?: Tier;
  /** NetworkPolicy only. */
  namespace?: string;
  name: string;
  /** ClusterNetworkPolicy only, 0-1000; lower number = higher precedence within the tier. */
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
  /** Admin-tier ClusterNetworkPolicies sorted by priority, then name: the order they are met. */
  admin: Policy[];
  /** Sorted by namespace, then name. */
  network: Policy[];
  /** Baseline-tier ClusterNetworkPolicies, sorted by priority, then name. */
  baseline: Policy[];
}

/** Stable reference to a rule of a policy, for verdict attribution. */
export interface RuleRef {
  kind: PolicyKind;
  /** ClusterNetworkPolicy only. */
  tier?: Tier;
  namespace?: string;
  name: string;
  /** `ingress[0]`, `egress[1]`, or `isolation` (the implicit deny of a NetworkPolicy-isolated pod). */
  rule: string;
  /** The rule's own name, when it has one. */
  ruleName?: string;
}

export function ruleRef(p: Policy, rule: string, ruleName?: string): RuleRef {
  return {
    kind: p.kind,
    ...(p.tier !== undefined && { tier: p.tier }),
    ...(p.namespace !== undefined && { namespace: p.namespace }),
    name: p.name,
    rule,
    ...(ruleName !== undefined && { ruleName }),
  };
}

/**
 * The same policies with `weft.dev/mode: audit` lifted: what the site would enforce once the audit
 * step ends. Ops review this (connlist, explain) before they switch a default-deny on.
 */
export function enforceAudited(set: PolicySet): PolicySet {
  const lift = (p: Policy): Policy => (p.audit ? { ...p, audit: false } : p);
  return { admin: set.admin.map(lift), network: set.network.map(lift), baseline: set.baseline.map(lift) };
}
