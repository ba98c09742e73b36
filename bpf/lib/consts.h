/* Named numbers of the wire formats the programs parse, and of the datapath's own timing. vmlinux.h
 * carries the kernel's types and enums but none of its #defines, so the ones we need are here, under
 * the kernel's names where it has one. Userspace-visible numbers (map layouts, verdicts, counter
 * kinds, drop reasons) are in types.h instead, mirrored by datapath/layout.ts. */
#ifndef WEFT_CONSTS_H
#define WEFT_CONSTS_H

/* tc verdicts (include/uapi/linux/pkt_cls.h). */
#define TC_ACT_OK 0
#define TC_ACT_SHOT 2

/* Ethernet (include/uapi/linux/if_ether.h). */
#define ETH_HLEN 14
#define ETH_TYPE_OFF 12 /* h_proto in struct ethhdr */
#define ETH_P_IP 0x0800
#define ETH_P_ARP 0x0806
#define ETH_P_IPV6 0x86DD

/* IPv4 (RFC 791). */
#define IPV4_MIN_IHL 5 /* header length in 32-bit words, options excluded */
#define IPV4_IHL_UNIT 4
#define IP_OFFSET 0x1fff /* fragment offset bits of frag_off, in 8-byte units */

/* IPv6 extension headers the parser walks (include/net/ipv6.h). */
#define NEXTHDR_HOP 0
#define NEXTHDR_ROUTING 43
#define NEXTHDR_FRAGMENT 44
#define NEXTHDR_DEST 60
#define IPV6_EXT_UNIT 8 /* hdr ext len counts 8-octet units after the first 8 octets */
#define IPV6_FRAG_OFF_SHIFT 3 /* the offset is the top 13 bits of the fragment header's 16 */
/* Headers walked before giving up: bounded for the verifier; a longer chain is judged on the
 * header where the walk stopped (no port), which no rule but a protocol-wide one names. */
#define WEFT_IPV6_MAX_EXT_HDRS 6

/* Fragment offsets (8-byte units) under 2, i.e. under 16 bytes, could rewrite the first fragment's
 * ports (RFC 1858, tiny fragment attack): such fragments drop. */
#define WEFT_FRAG_MIN_OFFSET 2

/* L4. vmlinux.h has IPPROTO_TCP/UDP/SCTP/ICMP (an enum) but not ICMPv6 (a define in in6.h). */
#define WEFT_IPPROTO_ICMPV6 58
#define L4_PORTS_LEN 4 /* source and destination port, the first 4 bytes of TCP, UDP and SCTP */
#define ICMP_HLEN 8 /* type, code, checksum, and 4 bytes of rest (echo id and sequence) */
#define ICMP_ECHO_ID_OFF 4

/* ICMP types (include/uapi/linux/icmp.h). */
#define ICMP_ECHOREPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_SOURCE_QUENCH 4
#define ICMP_REDIRECT 5
#define ICMP_ECHO 8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAMETERPROB 12

/* ICMPv6 types (include/uapi/linux/icmpv6.h): errors are 1..4 (unreachable, too big, time
 * exceeded, parameter problem); neighbor discovery is 133..137. */
#define ICMPV6_DEST_UNREACH 1
#define ICMPV6_PARAMPROB 4
#define ICMPV6_ECHO_REQUEST 128
#define ICMPV6_ECHO_REPLY 129
#define NDISC_ROUTER_SOLICITATION 133
#define NDISC_REDIRECT 137

/* Conntrack idle timeouts: a TCP or SCTP flow lives long, a datagram flow short (datapath/flow.ts
 * ctTimeoutNs says the same for the in-memory datapath). */
#define NSEC_PER_SEC 1000000000ULL
#define WEFT_CT_TIMEOUT_STREAM_NS (3600 * NSEC_PER_SEC)
#define WEFT_CT_TIMEOUT_DATAGRAM_NS (60 * NSEC_PER_SEC)
/* An entry's last_seen is rewritten at most this often: see ct_lookup. */
#define WEFT_CT_REFRESH_NS NSEC_PER_SEC

#endif
