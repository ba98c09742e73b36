// The datapath tables: what policy.compile produces and what bpf/ loads into maps.
// Designed for O(1) kernel lookups whatever the rule count:
//   1. endpoints:  hash  local endpoint IP            -> { ingress set, egress set }
//   2. ipcache:    LPM   peer IP                      -> peer identity (pods: /32 or /128; CIDR classes: prefixes)
//   3. sets:       array set id                       -> default verdict of that set (when no rule entry matches)
//   4. rules:      LPM   [set u32][peer u32][proto u8][pad u8 = 0][port u16 BE] -> verdict
// The compiler flattens tier precedence (Admin ClusterNetworkPolicies by priority, NetworkPolicy,
// Baseline ClusterNetworkPolicies by priority, default) into disjoint
// rule entries, so the longest-prefix match is the whole answer: no priority walk in the kernel.

export const VERDICT_ALLOW = 1;
export const VERDICT_DENY = 2;
export type Verdict = typeof VERDICT_ALLOW | typeof VERDICT_DENY;

/** IANA protocol numbers used in rule keys. */
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const PROTO_SCTP = 132;

/** Set id 0 means "no policy selects this endpoint in this direction": allow without lookups. */
export const SET_NONE = 0;
/** Peer identity for an address that no ipcache entry covers (the world). */
export const IDENTITY_WORLD = 1;

/** Bits of a rule key after the prefixlen field: set(32) peer(32) proto(8) pad(8) port(16). */
export const RULE_KEY_BITS = 96;
/** prefixlen for "this set and peer, any protocol, any port". */
export const RULE_PREFIX_ANY_PROTO = 64;
/** prefixlen for "this set, peer and protocol, any port". */
export const RULE_PREFIX_ANY_PORT = 80;

export interface RuleValue {
  verdict: Verdict;
  /** Attribution id of the rule that decided (index into Tables.attributions); 0 = default. */
  ruleId: number;
  /** When the enforced verdict is allow but an audit-mode policy would deny: its attribution id, else 0. */
  auditRuleId: number;
}

export interface EndpointEntry {
  /** Stable small integer for counters and events. */
  endpointId: number;
  /** `<namespace>/<name>` */
  pod: string;
  /** The endpoint's IPs; each is a key of the kernel's endpoint map. */
  ips: string[];
  identity: number;
  ingressSet: number;
  egressSet: number;
}

export interface IpCacheEntry {
  /** 'a.b.c.d/len' or IPv6 'x::/len'. Pods are host prefixes. */
  cidr: string;
  identity: number;
}

export interface SetEntry {
  id: number;
  direction: 'ingress' | 'egress';
  /** The verdict for a (peer, proto, port) that has no rule entry in this set. */
  default: RuleValue;
}

export interface RuleEntry {
  set: number;
  peer: number;
  /** null: any protocol (prefixlen 64). Otherwise an IANA protocol number. */
  proto: number | null;
  /** Port prefix: the first `portBits` bits of `port` match (0 = any port). Ignored when proto is null. */
  port: number;
  portBits: number;
  value: RuleValue;
}

export interface Attribution {
  id: number;
  kind: 'ClusterNetworkPolicy' | 'NetworkPolicy' | 'default';
  /** ClusterNetworkPolicy only: Admin or Baseline. */
  tier?: 'Admin' | 'Baseline';
  namespace?: string;
  name: string;
  /** e.g. 'ingress[0]', 'egress[2]', or 'isolation' for the implicit default-deny of an isolated pod. */
  rule: string;
  /** The rule's own name, when it has one. */
  ruleName?: string;
  action: 'Accept' | 'Deny' | 'Pass' | 'Isolate';
  audit: boolean;
}

export interface IdentityEntry {
  id: number;
  /** Human summary: the pods it stands for, or the CIDR class. */
  description: string;
}

export interface TableSizes {
  endpoints: number;
  ipcache: number;
  sets: number;
  rules: number;
  identities: number;
  attributions: number;
}

/** Map capacities, from configuration. A table set that does not fit is an error, never a partial result. */
export interface MapLimits {
  endpoints: number;
  ipcache: number;
  sets: number;
  rules: number;
}

export const DEFAULT_LIMITS: MapLimits = { endpoints: 4096, ipcache: 65536, sets: 16384, rules: 262144 };

/**
 * A rule peer that stands for "an address learned from DNS for pattern `index` of Tables.fqdn,
 * whose own identity is `identity`" (the world or a CIDR class): the kernel looks these up for an
 * egress to a learned address that its own identity does not allow (bpf/lib/fqdn.h).
 */
export const FQDN_PEER_BIT = 0x80000000;
export const FQDN_INDEX_SHIFT = 20;
/** Identities up to this can stand in an FQDN peer; patterns up to FQDN_MAX_PATTERNS per table set. */
export const FQDN_MAX_IDENTITY = (1 << FQDN_INDEX_SHIFT) - 1;
export const FQDN_MAX_PATTERNS = 1 << (31 - FQDN_INDEX_SHIFT);

export function fqdnPeer(index: number, identity: number): number {
  return (FQDN_PEER_BIT | (index << FQDN_INDEX_SHIFT) | identity) >>> 0;
}

export interface Tables {
  version: 1;
  /**
   * domainNames patterns (normalized: lowercase, no trailing dot; "*." wildcards), by index: the
   * `index` of their FQDN peers (fqdnPeer). Absent or empty: no policy names a domain.
   */
  fqdn?: string[];
  endpoints: EndpointEntry[];
  ipcache: IpCacheEntry[];
  sets: SetEntry[];
  rules: RuleEntry[];
  identities: IdentityEntry[];
  attributions: Attribution[];
  sizes: TableSizes;
}
