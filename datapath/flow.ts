// How a packet becomes a flow: which ports the rule lookup and conntrack see, and which ICMP
// messages are replies or errors. Shared by the in-memory datapath and the tests of the kernel one,
// so both read a packet the same way (the C side is bpf/lib/parse.h and bpf/lib/conntrack.h).
import { PROTO_SCTP, PROTO_TCP, PROTO_UDP } from '../policy/index.ts';
import type { FiveTuple } from './datapath.ts';

export const PROTO_ICMP = 1;
export const PROTO_ICMPV6 = 58;

export const ICMP_ECHO_REPLY = 0;
export const ICMP_ECHO_REQUEST = 8;
export const ICMPV6_ECHO_REQUEST = 128;
export const ICMPV6_ECHO_REPLY = 129;
/** Router/neighbor solicitation and advertisement, redirect: IPv6 neighbor discovery always passes. */
export const ICMPV6_ND_FIRST = 133;
export const ICMPV6_ND_LAST = 137;
/** ICMP errors quote the packet that caused them: unreachable, source quench, redirect, time exceeded, parameter problem. */
const ICMP_ERRORS: readonly number[] = [3, 4, 5, 11, 12];
/** ICMPv6 errors: unreachable, packet too big, time exceeded, parameter problem. */
const ICMPV6_ERROR_FIRST = 1;
const ICMPV6_ERROR_LAST = 4;
const NS_PER_S = 1_000_000_000n;
/** Conntrack idle timeouts (WEFT_CT_TIMEOUT_* in bpf/lib/consts.h). */
const CT_TIMEOUT_STREAM_NS = 3600n * NS_PER_S;
const CT_TIMEOUT_DATAGRAM_NS = 60n * NS_PER_S;
/** An entry's last-seen time is rewritten at most this often (WEFT_CT_REFRESH_NS). */
export const CT_REFRESH_NS = NS_PER_S;

/** Protocols whose FiveTuple carries ports; ICMP tuples carry sport = type, dport = code. */
export function hasPorts(proto: number): boolean {
  return proto === PROTO_TCP || proto === PROTO_UDP || proto === PROTO_SCTP;
}

export function isIcmp(proto: number): boolean {
  return proto === PROTO_ICMP || proto === PROTO_ICMPV6;
}

export function isNeighborDiscovery(t: FiveTuple): boolean {
  return t.proto === PROTO_ICMPV6 && t.sport >= ICMPV6_ND_FIRST && t.sport <= ICMPV6_ND_LAST;
}

/** ICMP errors that quote the packet that caused them: unreachable, too big, time exceeded, parameter problem. */
export function isIcmpError(t: FiveTuple): boolean {
  if (t.proto === PROTO_ICMP) return ICMP_ERRORS.includes(t.sport);
  if (t.proto === PROTO_ICMPV6) return t.sport >= ICMPV6_ERROR_FIRST && t.sport <= ICMPV6_ERROR_LAST;
  return false;
}

/**
 * The ports of a conntrack key. An echo request keys (id, 0) and its reply (0, id), so a reply
 * matches the request's reverse entry while a fresh request from the peer does not.
 */
export function ctPorts(t: FiveTuple, icmpId = 0): [number, number] {
  if (hasPorts(t.proto)) return [t.sport, t.dport];
  if (t.proto === PROTO_ICMP ? t.sport === ICMP_ECHO_REQUEST : t.proto === PROTO_ICMPV6 && t.sport === ICMPV6_ECHO_REQUEST) return [icmpId, 0];
  if (t.proto === PROTO_ICMP ? t.sport === ICMP_ECHO_REPLY : t.proto === PROTO_ICMPV6 && t.sport === ICMPV6_ECHO_REPLY) return [0, icmpId];
  return [0, 0];
}

/** The port a rule lookup sees: the destination port, or 0 for protocols without ports. */
export function rulePort(t: FiveTuple): number {
  return hasPorts(t.proto) ? t.dport : 0;
}

/** Conntrack idle timeouts (ns): TCP lives long, datagram flows short. */
export function ctTimeoutNs(proto: number): bigint {
  return proto === PROTO_TCP || proto === PROTO_SCTP ? CT_TIMEOUT_STREAM_NS : CT_TIMEOUT_DATAGRAM_NS;
}
