// One side of a flow: the verdict a pod's ingress (or egress) gives a peer on a protocol and port.
// The tiers as network-policy-api v1alpha2 defines them: Admin ClusterNetworkPolicies by priority
// (Accept/Deny final, Pass skips to NetworkPolicy), NetworkPolicy (isolation + additive allows),
// Baseline ClusterNetworkPolicies by priority (Accept/Deny final, Pass skips to the default), allow.
// This is the single definition of semantics: the evaluator calls it on concrete flows and the
// compiler on representatives of identity and port classes.
import { cidrContains, parseIp, type Ip } from '../base/pure.ts';
import type { PodInfo, Protocol } from './inventory.ts';
import { ruleRef, type Direction, type Peer, type Policy, type PolicySet, type PortSpec, type Rule, type RuleRef } from './model.ts';
import { normalizePattern } from './fqdn.ts';
import { matchesNamespace, matchesSelector } from './selector.ts';

/** A pod with its namespace's labels, as selectors see it. */
export interface PodView {
  pod: PodInfo;
  nsLabels: Record<string, string>;
}

/** The other end: a pod, or an external address (null: one that no CIDR of any policy covers). */
/** `names`: for an address learned from DNS, the domainNames patterns (normalized) it was learned for. */
export type PeerView = { kind: 'pod'; view: PodView } | { kind: 'ip'; ip: Ip | null; names?: ReadonlySet<string> };

/** OTHER: any protocol that no port rule can name (ICMP...); only port-less rules match it. */
export type Proto = Protocol | 'OTHER';

/** The policies that apply to one pod in one direction, in the order they are met. */
export interface SideRules {
  admin: Policy[];
  network: Policy[];
  /** `network` without audit-mode policies: what is enforced. */
  networkEnforced: Policy[];
  baseline: Policy[];
  hasAudit: boolean;
}

export interface SideOutcome {
  allowed: boolean;
  /** null: nothing decided, the default allow. */
  by: RuleRef | null;
  /** Enforced allow, but an audit-mode policy would deny: the rule that would have decided. */
  audit: RuleRef | null;
}

export function selects(subject: Peer, v: PodView): boolean {
  return subject.type === 'pods' && matchesNamespace(subject.namespaces, v.pod.namespace, v.nsLabels) && matchesSelector(subject.pods, v.pod.labels);
}

/**
 * `network`: the NetworkPolicies of the pod's namespace (only those can select it), or all of them;
 * `admin`: likewise the Admin-tier policies whose subject's namespaces hold the pod's, in their order, or all of them.
 */
export function sideRules(set: PolicySet, v: PodView, dir: Direction, network: Policy[] = set.network, admin: Policy[] = set.admin): SideRules {
  const selected = admin.filter((p) => p[dir].length > 0 && selects(p.subject, v));
  const nps = network.filter((p) => p.isolates[dir] && selects(p.subject, v));
  const baseline = set.baseline.filter((p) => p[dir].length > 0 && selects(p.subject, v));
  const hasAudit = selected.some((p) => p.audit) || nps.some((p) => p.audit) || baseline.some((p) => p.audit);
  return { admin: selected, network: nps, networkEnforced: nps.filter((p) => !p.audit), baseline, hasAudit };
}

/** Every policy of the side in the order they are met, tier by tier: a new tier adds its list here. */
export function policiesMet(r: SideRules): Policy[] {
  return [...r.admin, ...r.network, ...r.baseline];
}

export function isEmpty(r: SideRules): boolean {
  return r.admin.length === 0 && r.network.length === 0 && r.baseline.length === 0;
}

export function peerMatches(peer: Peer, v: PeerView): boolean {
  switch (peer.type) {
    case 'nodes':
      // Resolved to the selected Nodes' addresses first (node-peers.ts); unresolved, no Node is known.
      return false;
    case 'domains': {
      // An address matches a name only once learned from a DNS answer for it (docs/datapath.md).
      const names = v.kind === 'ip' ? v.names : undefined;
      return names !== undefined && peer.names.some((n) => names.has(normalizePattern(n)));
    }
    case 'cidr': {
      // ipBlock names external addresses only; networks also match a pod by its IPs (model.ts).
      const inside = (ip: Ip) => peer.cidrs.some((c) => cidrContains(c, ip)) && !peer.except.some((c) => cidrContains(c, ip));
      if (v.kind === 'ip') return v.ip !== null && inside(v.ip);
      return peer.pods === true && podIps(v.view.pod).some(inside);
    }
    case 'pods':
      return v.kind === 'pod' && selects(peer, v.view);
  }
}

const parsedIps = new WeakMap<PodInfo, Ip[]>();
/** A pod's IPs, parsed once. */
export function podIps(pod: PodInfo): Ip[] {
  let ips = parsedIps.get(pod);
  if (!ips) parsedIps.set(pod, (ips = (pod.ips ?? []).map((a) => parseIp(a)).filter((ip): ip is Ip => ip !== null)));
  return ips;
}

/** Named ports resolve against the destination pod's container ports (name and protocol). */
export function portMatches(spec: PortSpec, proto: Proto, port: number, dst: PodInfo | null): boolean {
  if (proto === 'OTHER') return false;
  if (spec.type === 'range') return spec.protocol === proto && port >= spec.from && port <= spec.to;
  if (spec.protocol !== null && spec.protocol !== proto) return false;
  return dst !== null && dst.ports.some((cp) => cp.name === spec.name && cp.protocol === proto && cp.containerPort === port);
}

/** Whether a rule's peers hold the other end. The compiler answers it from precomputed peer classes. */
export type PeerTest = (rule: Rule) => boolean;

export function peerTest(peer: PeerView): PeerTest {
  return (rule) => rule.peers === null || rule.peers.some((p) => peerMatches(p, peer));
}

function portsMatch(rule: Rule, proto: Proto, port: number, dst: PodInfo | null): boolean {
  return rule.ports === null || rule.ports.some((s) => portMatches(s, proto, port, dst));
}

// One frozen RuleRef per rule: verdicts share them instead of allocating one per decision.
const refs = new WeakMap<object, RuleRef>();
function refOf(p: Policy, rule: Rule | null): RuleRef {
  const key = rule ?? p;
  let r = refs.get(key);
  if (!r) refs.set(key, (r = Object.freeze(rule ? ruleRef(p, rule.label, rule.ruleName) : ruleRef(p, 'isolation'))));
  return r;
}

interface Decision {
  allowed: boolean;
  by: RuleRef | null;
}

function decide(r: SideRules, dir: Direction, dst: PodInfo | null, peerOk: PeerTest, proto: Proto, port: number, withAudit: boolean): Decision {
  admin: for (const p of r.admin) {
    if (p.audit && !withAudit) continue;
    for (const rule of p[dir]) {
      if (!peerOk(rule) || !portsMatch(rule, proto, port, dst)) continue;
      if (rule.action === 'Pass') break admin;
      return { allowed: rule.action === 'Accept', by: refOf(p, rule) };
    }
  }
  const network = withAudit ? r.network : r.networkEnforced;
  if (network.length > 0) {
    for (const p of network) for (const rule of p[dir]) if (peerOk(rule) && portsMatch(rule, proto, port, dst)) return { allowed: true, by: refOf(p, rule) };
    return { allowed: false, by: refOf(network[0], null) };
  }
  baseline: for (const p of r.baseline) {
    if (p.audit && !withAudit) continue;
    for (const rule of p[dir]) {
      if (!peerOk(rule) || !portsMatch(rule, proto, port, dst)) continue;
      if (rule.action === 'Pass') break baseline;
      return { allowed: rule.action === 'Accept', by: refOf(p, rule) };
    }
  }
  return { allowed: true, by: null };
}

/**
 * The side as peers that `peerOk` describes meet it: the same decisions, fewer rules to walk.
 * A policy none of whose rules holds the peer never decides, except that the first NetworkPolicy
 * of each list names the isolation: it stays.
 */
export function restrictSide(r: SideRules, dir: Direction, peerOk: PeerTest): SideRules {
  const holds = (p: Policy) => p[dir].some(peerOk);
  const network = r.network.filter((p, i) => i === 0 || holds(p));
  const networkEnforced = r.networkEnforced.filter((p, i) => i === 0 || holds(p));
  return { admin: r.admin.filter(holds), network, networkEnforced, baseline: r.baseline, hasAudit: r.hasAudit };
}

/** `peerOk`: which rules' peers hold `peer`; computed from `peer` unless the caller knows it already. */
export function decideSide(
  r: SideRules,
  dir: Direction,
  self: PodView,
  peer: PeerView,
  proto: Proto,
  port: number,
  peerOk: PeerTest = peerTest(peer),
): SideOutcome {
  // Named ports resolve against the destination: this pod for ingress, the peer for egress.
  const dst = dir === 'ingress' ? self.pod : peer.kind === 'pod' ? peer.view.pod : null;
  const enforced = decide(r, dir, dst, peerOk, proto, port, false);
  if (!enforced.allowed || !r.hasAudit) return { allowed: enforced.allowed, by: enforced.by, audit: null };
  const full = decide(r, dir, dst, peerOk, proto, port, true);
  return { allowed: true, by: enforced.by, audit: full.allowed ? null : full.by };
}
