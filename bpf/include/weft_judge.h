/* The per-packet algorithm, shared by both attach points (bpf/memory-datapath.ts mirrors it):
 *   ARP and IPv6 neighbor discovery pass; malformed IP drops;
 *   endpoint = endpoints[slot, pod-side IP] (none: pass);
 *   conntrack hit (established, reply, or ICMP error about an allowed flow): pass;
 *   set = ingress or egress set (0: allow); peer identity = host hash, else LPM ipcache (else world);
 *   verdict = exact rules, else LPM rules[slot, set, peer, proto, port], else sets[slot, set].default;
 *   an allow creates the flow's conntrack entries; deny and audit are reported, allows sampled. */
#ifndef WEFT_JUDGE_H
#define WEFT_JUDGE_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "weft_types.h"

#define TC_ACT_OK 0
#define TC_ACT_SHOT 2
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_P_ARP 0x0806
#define ETH_HLEN 14
#define IPPROTO_ICMPV6_ 58
#define NSEC 1000000000ULL

/* Sizes are set from MapLimits before load; these are placeholders. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct weft_state);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct weft_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2);
	__type(key, struct weft_endpoint_key);
	__type(value, struct weft_endpoint_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_endpoints SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 2);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct weft_ipcache_key);
	__type(value, struct weft_ipcache_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_ipcache SEC(".maps");

/* Host entries (/32, /128) of the ipcache, by exact match: a hash lookup costs the same for ten
 * pods or a hundred thousand, where a trie walk grows with its depth. weft_ipcache keeps the rest. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct weft_ipcache_key);
	__type(value, struct weft_ipcache_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_ipcache_hosts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2);
	__type(key, struct weft_set_key);
	__type(value, struct weft_verdict);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_sets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 2);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct weft_rule_key);
	__type(value, struct weft_verdict);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_rules SEC(".maps");

/* Rules of one protocol on one port (the full key length, so always the longest match), by exact
 * match: flat cost whatever the rule count. weft_rules keeps port ranges and any-protocol rules. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct weft_rule_key);
	__type(value, struct weft_verdict);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_rules_exact SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct weft_ct_key);
	__type(value, struct weft_ct_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_ct SEC(".maps");

/* Not preallocated: a per-CPU map's preallocation is max_entries x CPUs, and counters appear
 * only for rules and endpoints that see traffic. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct weft_counter_key);
	__type(value, struct weft_counter_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 18); /* the agent's default; it resizes before load (libbpf-datapath.ts) */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_events SEC(".maps");

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
};

enum parse_result { PARSE_JUDGE, PARSE_PASS, PARSE_DROP };

static __always_inline void v4_mapped(__u8 out[16], __be32 a)
{
	__builtin_memset(out, 0, 10);
	out[10] = 0xff;
	out[11] = 0xff;
	__builtin_memcpy(out + 12, &a, 4);
}

/* Ports (or ICMP type/code/id) at offset off; for ICMP errors also the quoted header. */
static __always_inline enum parse_result parse_l4(struct __sk_buff *skb, __u32 off, struct weft_pkt *p, int v6)
{
	if (p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP || p->proto == IPPROTO_SCTP) {
		__be16 ports[2];
		if (bpf_skb_load_bytes(skb, off, ports, 4) < 0)
			return PARSE_DROP;
		p->sport = p->ct_sport = ports[0];
		p->dport = p->ct_dport = ports[1];
		return PARSE_JUDGE;
	}
	if (p->proto != IPPROTO_ICMP && p->proto != IPPROTO_ICMPV6_)
		return PARSE_JUDGE; /* other protocols: port 0 */
	__u8 h[8];
	if (bpf_skb_load_bytes(skb, off, h, 8) < 0)
		return PARSE_DROP;
	__u8 type = h[0];
	p->sport = bpf_htons(type);
	p->dport = bpf_htons(h[1]);
	__be16 id;
	__builtin_memcpy(&id, h + 4, 2);
	if (v6) {
		if (type >= 133 && type <= 137)
			return PARSE_PASS; /* neighbor discovery */
		if (type == 128) p->ct_sport = id;
		else if (type == 129) p->ct_dport = id;
		p->is_icmp_error = type >= 1 && type <= 4;
	} else {
		if (type == 8) p->ct_sport = id;
		else if (type == 0) p->ct_dport = id;
		p->is_icmp_error = type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
	}
	if (!p->is_icmp_error)
		return PARSE_JUDGE;
	/* The quoted packet: its IP header, then 8 bytes of its L4 header (RFC 792 / 4443). */
	off += 8;
	__u32 l4;
	if (v6) {
		struct ipv6hdr in6;
		if (bpf_skb_load_bytes(skb, off, &in6, sizeof(in6)) < 0)
			return PARSE_JUDGE;
		p->inner_proto = in6.nexthdr;
		__builtin_memcpy(p->inner_dst, &in6.saddr, 16);
		__builtin_memcpy(p->inner_src, &in6.daddr, 16);
		l4 = off + sizeof(in6);
	} else {
		struct iphdr in4;
		if (bpf_skb_load_bytes(skb, off, &in4, sizeof(in4)) < 0)
			return PARSE_JUDGE;
		p->inner_proto = in4.protocol;
		v4_mapped(p->inner_dst, in4.saddr);
		v4_mapped(p->inner_src, in4.daddr);
		l4 = off + in4.ihl * 4;
	}
	__be16 ip[2] = {0, 0};
	if (p->inner_proto == IPPROTO_TCP || p->inner_proto == IPPROTO_UDP || p->inner_proto == IPPROTO_SCTP) {
		if (bpf_skb_load_bytes(skb, l4, ip, 4) < 0)
			return PARSE_JUDGE;
	}
	/* Reversed: the error travels against the quoted packet. */
	p->inner_sport = ip[1];
	p->inner_dport = ip[0];
	p->has_inner = 1;
	return PARSE_JUDGE;
}

static __always_inline enum parse_result parse(struct __sk_buff *skb, struct weft_pkt *p)
{
	__be16 eth_proto;
	if (bpf_skb_load_bytes(skb, 12, &eth_proto, 2) < 0)
		return PARSE_DROP;
	if (eth_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;
		if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) < 0)
			return PARSE_DROP;
		if (ip.version != 4 || ip.ihl < 5 || bpf_ntohs(ip.tot_len) < ip.ihl * 4)
			return PARSE_DROP;
		v4_mapped(p->src, ip.saddr);
		v4_mapped(p->dst, ip.daddr);
		p->proto = ip.protocol;
		__u16 frag = bpf_ntohs(ip.frag_off) & 0x1fff;
		/* A later fragment carries no ports; its first fragment was judged and without it
		 * reassembly fails. Offsets under 16 bytes could rewrite the first fragment's ports
		 * (RFC 1858): drop those. */
		if (frag)
			return frag < 2 ? PARSE_DROP : PARSE_PASS;
		return parse_l4(skb, ETH_HLEN + ip.ihl * 4, p, 0);
	}
	if (eth_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;
		if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip6, sizeof(ip6)) < 0)
			return PARSE_DROP;
		if (ip6.version != 6)
			return PARSE_DROP;
		__builtin_memcpy(p->src, &ip6.saddr, 16);
		__builtin_memcpy(p->dst, &ip6.daddr, 16);
		__u8 nh = ip6.nexthdr;
		__u32 off = ETH_HLEN + sizeof(ip6);
		/* Skip extension headers: hop-by-hop, routing, fragment, destination options. */
#pragma unroll
		for (int i = 0; i < 6; i++) {
			if (nh != 0 && nh != 43 && nh != 44 && nh != 60)
				break;
			__u8 ext[8];
			if (bpf_skb_load_bytes(skb, off, ext, 8) < 0)
				return PARSE_DROP;
			if (nh == 44) {
				__u16 fo = ((__u16)ext[2] << 8 | ext[3]) >> 3;
				if (fo)
					return fo < 2 ? PARSE_DROP : PARSE_PASS;
				off += 8;
			} else {
				off += (ext[1] + 1) * 8;
			}
			nh = ext[0];
		}
		p->proto = nh;
		return parse_l4(skb, off, p, 1);
	}
	if (eth_proto == bpf_htons(ETH_P_ARP))
		return PARSE_PASS;
	/* Other ethertypes carry no IP policy can name. */
	return PARSE_PASS;
}

static __always_inline void count(__u8 kind, __u32 id, __u8 verdict, __u32 bytes)
{
	struct weft_counter_key k = {.kind = kind, .verdict = verdict, .id = id};
	struct weft_counter_value *v = bpf_map_lookup_elem(&weft_counters, &k);
	if (v) {
		v->packets++;
		v->bytes += bytes;
		return;
	}
	struct weft_counter_value init = {.packets = 1, .bytes = bytes};
	bpf_map_update_elem(&weft_counters, &k, &init, BPF_NOEXIST);
}

/* Not inlined: a subprogram keeps struct weft_event in the object's BTF for the layout test. */
static __noinline void fill_event_flow(struct weft_event *e, struct weft_pkt *p)
{
	__builtin_memcpy(e->src, p->src, 16);
	__builtin_memcpy(e->dst, p->dst, 16);
	e->sport = bpf_ntohs(p->sport);
	e->dport = bpf_ntohs(p->dport);
	e->proto = p->proto;
	e->pad = 0;
}

static __always_inline void report(struct weft_pkt *p, __u64 now, __u64 gen, __u32 ep, __u32 rule, __u8 dir, __u8 verdict)
{
	struct weft_event *e = bpf_ringbuf_reserve(&weft_events, sizeof(*e), 0);
	if (!e) {
		/* Full: the consumer is behind. The verdict counters still count; this says how many
		 * events ops did not see. */
		count(WEFT_COUNT_EVENTS_LOST, 0, verdict, 0);
		return;
	}
	fill_event_flow(e, p);
	e->time_ns = now;
	e->generation = gen;
	e->endpoint_id = ep;
	e->rule_id = rule;
	e->direction = dir;
	e->verdict = verdict;
	bpf_ringbuf_submit(e, 0);
}

static __always_inline struct weft_ct_value *ct_lookup(struct weft_ct_key *k, __u8 proto, __u64 now)
{
	struct weft_ct_value *v = bpf_map_lookup_elem(&weft_ct, k);
	if (!v)
		return 0;
	__u64 timeout = (proto == IPPROTO_TCP || proto == IPPROTO_SCTP) ? 3600 * NSEC : 60 * NSEC;
	if (now - v->last_seen_ns > timeout)
		return 0;
	/* Refresh at most once a second: a write per packet would bounce the entry's cache line
	 * between CPUs for nothing, timeouts are minutes. */
	if (now - v->last_seen_ns > NSEC)
		v->last_seen_ns = now;
	return v;
}

static __always_inline int judge(struct __sk_buff *skb, __u8 dir)
{
	struct weft_pkt p = {};
	enum parse_result r = parse(skb, &p);
	if (r == PARSE_PASS)
		return TC_ACT_OK;
	if (r == PARSE_DROP)
		return TC_ACT_SHOT;

	__u32 zero = 0;
	struct weft_state *st = bpf_map_lookup_elem(&weft_state, &zero);
	if (!st)
		return TC_ACT_OK;
	/* One read: the slot and the generation always belong together. */
	__u64 active = *(volatile __u64 *)&st->active;
	if (!active)
		return TC_ACT_OK; /* nothing applied yet */
	__u32 slot = active & 0xff;
	__u64 gen = active >> 8;

	struct weft_endpoint_key ek = {.slot = slot};
	__builtin_memcpy(ek.addr, dir == WEFT_DIR_EGRESS ? p.src : p.dst, 16);
	struct weft_endpoint_value *ep = bpf_map_lookup_elem(&weft_endpoints, &ek);
	if (!ep)
		return TC_ACT_OK;
	__u32 ep_id = ep->endpoint_id;
	__u32 bytes = skb->len;
	__u64 now = bpf_ktime_get_ns();

	struct weft_ct_key ck = {.endpoint_id = ep_id, .direction = dir, .proto = p.proto, .sport = p.ct_sport, .dport = p.ct_dport};
	__builtin_memcpy(ck.src, p.src, 16);
	__builtin_memcpy(ck.dst, p.dst, 16);
	if (ct_lookup(&ck, p.proto, now)) {
		count(WEFT_COUNT_ENDPOINT, ep_id, WEFT_EV_ALLOW, bytes);
		return TC_ACT_OK;
	}
	if (p.has_inner) {
		struct weft_ct_key ik = {.endpoint_id = ep_id, .direction = dir, .proto = p.inner_proto, .sport = p.inner_sport, .dport = p.inner_dport};
		__builtin_memcpy(ik.src, p.inner_src, 16);
		__builtin_memcpy(ik.dst, p.inner_dst, 16);
		if (ct_lookup(&ik, p.inner_proto, now)) {
			count(WEFT_COUNT_ENDPOINT, ep_id, WEFT_EV_ALLOW, bytes);
			return TC_ACT_OK;
		}
	}

	__u32 set = dir == WEFT_DIR_INGRESS ? ep->ingress_set : ep->egress_set;
	struct weft_verdict v = {.verdict = WEFT_VERDICT_ALLOW};
	if (set) {
		struct weft_ipcache_key ik = {.prefixlen = 160, .slot = slot};
		__builtin_memcpy(ik.addr, dir == WEFT_DIR_EGRESS ? p.dst : p.src, 16);
		struct weft_ipcache_value *id = bpf_map_lookup_elem(&weft_ipcache_hosts, &ik);
		if (!id)
			id = bpf_map_lookup_elem(&weft_ipcache, &ik);
		__u32 peer = id ? id->identity : WEFT_IDENTITY_WORLD;
		int ported = p.proto == IPPROTO_TCP || p.proto == IPPROTO_UDP || p.proto == IPPROTO_SCTP;
		struct weft_rule_key rk = {.prefixlen = 128, .slot = slot, .set = set, .peer = peer, .proto = p.proto, .port = ported ? p.dport : 0};
		struct weft_verdict *rv = bpf_map_lookup_elem(&weft_rules_exact, &rk);
		if (!rv)
			rv = bpf_map_lookup_elem(&weft_rules, &rk);
		if (!rv) {
			struct weft_set_key sk = {.slot = slot, .set = set};
			rv = bpf_map_lookup_elem(&weft_sets, &sk);
		}
		if (rv)
			v = *rv;
		else
			v.verdict = WEFT_VERDICT_DENY; /* a set without its entry: fail closed */
	}

	__u8 ev = v.verdict != WEFT_VERDICT_ALLOW ? WEFT_EV_DENY : v.audit_rule_id ? WEFT_EV_AUDIT : WEFT_EV_ALLOW;
	__u32 rule = ev == WEFT_EV_AUDIT ? v.audit_rule_id : v.rule_id;
	count(WEFT_COUNT_ENDPOINT, ep_id, ev, bytes);
	if (set)
		count(WEFT_COUNT_RULE, rule, ev, bytes);

	if (ev != WEFT_EV_DENY) {
		struct weft_ct_value cv = {.last_seen_ns = now, .rule_id = v.rule_id};
		bpf_map_update_elem(&weft_ct, &ck, &cv, BPF_ANY);
		/* The reverse entry: replies arrive in the other direction of the same endpoint. */
		struct weft_ct_key rk = {.endpoint_id = ep_id, .direction = !dir, .proto = p.proto, .sport = p.ct_dport, .dport = p.ct_sport};
		__builtin_memcpy(rk.src, p.dst, 16);
		__builtin_memcpy(rk.dst, p.src, 16);
		bpf_map_update_elem(&weft_ct, &rk, &cv, BPF_ANY);
	}

	if (ev == WEFT_EV_ALLOW) {
		if (set) {
			struct weft_config *cfg = bpf_map_lookup_elem(&weft_config, &zero);
			__u32 rate = cfg ? cfg->allow_sample_rate : 0;
			if (rate && bpf_get_prandom_u32() % rate == 0)
				report(&p, now, gen, ep_id, rule, dir, ev);
		}
		return TC_ACT_OK;
	}
	report(&p, now, gen, ep_id, rule, dir, ev);
	return ev == WEFT_EV_DENY ? TC_ACT_SHOT : TC_ACT_OK;
}

#endif
