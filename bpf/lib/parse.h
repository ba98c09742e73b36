/* The packet parser: Ethernet, IPv4 or IPv6 (walking extension headers), then the L4 ports or the
 * ICMP type, code and echo id; for an ICMP error also the header of the packet it quotes. It
 * decides three things: judge the packet, let it pass unjudged (ARP, other ethertypes, neighbor
 * discovery, later fragments), or drop it, with the reason (malformed or truncated headers, tiny
 * fragments). datapath/flow.ts reads a flow the same way for the in-memory datapath. */
#ifndef WEFT_PARSE_H
#define WEFT_PARSE_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "consts.h"
#include "types.h"

/* What the parser extracts. Ports in network order as on the wire; ICMP: sport = type, dport = code. */
struct weft_pkt {
	__u8 src[16];
	__u8 dst[16];
	__u8 proto;
	__u8 is_icmp_error;
	__u8 has_inner;
	__u8 pad;
	__be16 sport;
	__be16 dport;
	__be16 ct_sport;
	__be16 ct_dport;
	/* The quoted packet of an ICMP error, already reversed into the direction of this packet. */
	__u8 inner_proto;
	__be16 inner_sport;
	__be16 inner_dport;
	__u8 inner_src[16];
	__u8 inner_dst[16];
	/* Where the L4 header starts (ported protocols): DNS learning reads the payload after it. */
	__u32 l4_off;
};

/* parse() returns PARSE_JUDGE, PARSE_PASS, or the enum weft_drop_reason to drop the packet for
 * (always > 0). */
#define PARSE_JUDGE 0
#define PARSE_PASS (-1)

static __always_inline int is_ported(__u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP;
}

static __always_inline void v4_mapped(__u8 out[16], __be32 a)
{
	__builtin_memset(out, 0, 10);
	out[10] = 0xff;
	out[11] = 0xff;
	__builtin_memcpy(out + 12, &a, 4);
}

static __always_inline int icmp_is_error(__u8 type, int v6)
{
	if (v6)
		return type >= ICMPV6_DEST_UNREACH && type <= ICMPV6_PARAMPROB;
	return type == ICMP_DEST_UNREACH || type == ICMP_SOURCE_QUENCH || type == ICMP_REDIRECT || type == ICMP_TIME_EXCEEDED ||
	       type == ICMP_PARAMETERPROB;
}

/* The packet an ICMP error quotes: its IP header, then 8 bytes of its L4 header (RFC 792 / 4443).
 * A quote cut short is no reason to drop the error: it is judged as itself, without relation. */
static __always_inline void parse_icmp_quote(struct __sk_buff *skb, __u32 off, struct weft_pkt *p, int v6)
{
	__u32 l4;
	if (v6) {
		struct ipv6hdr in6;
		if (bpf_skb_load_bytes(skb, off, &in6, sizeof(in6)) < 0)
			return;
		p->inner_proto = in6.nexthdr;
		__builtin_memcpy(p->inner_dst, &in6.saddr, 16);
		__builtin_memcpy(p->inner_src, &in6.daddr, 16);
		l4 = off + sizeof(in6);
	} else {
		struct iphdr in4;
		if (bpf_skb_load_bytes(skb, off, &in4, sizeof(in4)) < 0)
			return;
		p->inner_proto = in4.protocol;
		v4_mapped(p->inner_dst, in4.saddr);
		v4_mapped(p->inner_src, in4.daddr);
		l4 = off + in4.ihl * IPV4_IHL_UNIT;
	}
	__be16 ip[2] = {0, 0};
	if (is_ported(p->inner_proto) && bpf_skb_load_bytes(skb, l4, ip, L4_PORTS_LEN) < 0)
		return;
	/* Reversed: the error travels against the quoted packet. */
	p->inner_sport = ip[1];
	p->inner_dport = ip[0];
	p->has_inner = 1;
}

/* Ports (or ICMP type/code/id) at offset off; for ICMP errors also the quoted header. */
static __always_inline int parse_l4(struct __sk_buff *skb, __u32 off, struct weft_pkt *p, int v6)
{
	if (is_ported(p->proto)) {
		__be16 ports[2];
		if (bpf_skb_load_bytes(skb, off, ports, L4_PORTS_LEN) < 0)
			return WEFT_DROP_TRUNCATED_L4;
		p->sport = p->ct_sport = ports[0];
		p->dport = p->ct_dport = ports[1];
		p->l4_off = off;
		return PARSE_JUDGE;
	}
	if (p->proto != IPPROTO_ICMP && p->proto != WEFT_IPPROTO_ICMPV6)
		return PARSE_JUDGE; /* other protocols: port 0 */
	__u8 h[ICMP_HLEN];
	if (bpf_skb_load_bytes(skb, off, h, ICMP_HLEN) < 0)
		return WEFT_DROP_TRUNCATED_L4;
	__u8 type = h[0];
	p->sport = bpf_htons(type);
	p->dport = bpf_htons(h[1]);
	__be16 id;
	__builtin_memcpy(&id, h + ICMP_ECHO_ID_OFF, 2);
	if (v6 && type >= NDISC_ROUTER_SOLICITATION && type <= NDISC_REDIRECT)
		return PARSE_PASS; /* neighbor discovery */
	/* Echo: the request keys (id, 0), the reply (0, id), so a reply matches the request's reverse entry. */
	if (type == (v6 ? ICMPV6_ECHO_REQUEST : ICMP_ECHO))
		p->ct_sport = id;
	else if (type == (v6 ? ICMPV6_ECHO_REPLY : ICMP_ECHOREPLY))
		p->ct_dport = id;
	p->is_icmp_error = icmp_is_error(type, v6);
	if (p->is_icmp_error)
		parse_icmp_quote(skb, off + ICMP_HLEN, p, v6);
	return PARSE_JUDGE;
}

static __always_inline int parse_ipv4(struct __sk_buff *skb, struct weft_pkt *p)
{
	struct iphdr ip;
	if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) < 0)
		return WEFT_DROP_TRUNCATED_IP;
	if (ip.version != 4 || ip.ihl < IPV4_MIN_IHL || bpf_ntohs(ip.tot_len) < ip.ihl * IPV4_IHL_UNIT)
		return WEFT_DROP_BAD_IP_HEADER;
	/* Options the header claims but the frame does not carry. */
	if (ETH_HLEN + ip.ihl * IPV4_IHL_UNIT > skb->len)
		return WEFT_DROP_TRUNCATED_IP;
	v4_mapped(p->src, ip.saddr);
	v4_mapped(p->dst, ip.daddr);
	p->proto = ip.protocol;
	__u16 frag = bpf_ntohs(ip.frag_off) & IP_OFFSET;
	/* A later fragment carries no ports; its first fragment was judged and without it
	 * reassembly fails. */
	if (frag)
		return frag < WEFT_FRAG_MIN_OFFSET ? WEFT_DROP_TINY_FRAGMENT : PARSE_PASS;
	return parse_l4(skb, ETH_HLEN + ip.ihl * IPV4_IHL_UNIT, p, 0);
}

static __always_inline int parse_ipv6(struct __sk_buff *skb, struct weft_pkt *p)
{
	struct ipv6hdr ip6;
	if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip6, sizeof(ip6)) < 0)
		return WEFT_DROP_TRUNCATED_IP;
	if (ip6.version != 6)
		return WEFT_DROP_BAD_IP_HEADER;
	__builtin_memcpy(p->src, &ip6.saddr, 16);
	__builtin_memcpy(p->dst, &ip6.daddr, 16);
	__u8 nh = ip6.nexthdr;
	__u32 off = ETH_HLEN + sizeof(ip6);
#pragma unroll
	for (int i = 0; i < WEFT_IPV6_MAX_EXT_HDRS; i++) {
		if (nh != NEXTHDR_HOP && nh != NEXTHDR_ROUTING && nh != NEXTHDR_FRAGMENT && nh != NEXTHDR_DEST)
			break;
		/* next header, length, and (fragment header) the offset: the first 8 bytes of each */
		__u8 ext[IPV6_EXT_UNIT];
		if (bpf_skb_load_bytes(skb, off, ext, IPV6_EXT_UNIT) < 0)
			return WEFT_DROP_TRUNCATED_IPV6_EXT;
		if (nh == NEXTHDR_FRAGMENT) {
			__u16 fo = ((__u16)ext[2] << 8 | ext[3]) >> IPV6_FRAG_OFF_SHIFT;
			if (fo)
				return fo < WEFT_FRAG_MIN_OFFSET ? WEFT_DROP_TINY_FRAGMENT : PARSE_PASS;
			off += IPV6_EXT_UNIT;
		} else {
			off += (ext[1] + 1) * IPV6_EXT_UNIT;
		}
		nh = ext[0];
	}
	p->proto = nh;
	return parse_l4(skb, off, p, 1);
}

static __always_inline int parse(struct __sk_buff *skb, struct weft_pkt *p)
{
	__be16 eth_proto;
	if (bpf_skb_load_bytes(skb, ETH_TYPE_OFF, &eth_proto, sizeof(eth_proto)) < 0)
		return WEFT_DROP_TRUNCATED_ETHERNET;
	if (eth_proto == bpf_htons(ETH_P_IP))
		return parse_ipv4(skb, p);
	if (eth_proto == bpf_htons(ETH_P_IPV6))
		return parse_ipv6(skb, p);
	/* ARP, and other ethertypes: they carry no IP that policy can name. */
	return PARSE_PASS;
}

#endif
