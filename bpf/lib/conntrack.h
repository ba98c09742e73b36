/* Conntrack, per endpoint and direction (weft_ct, LRU): an allowed flow creates its entry and the
 * reverse one, so the flow's later packets and its replies pass without a policy lookup. An LRU
 * map never refuses an entry: when full it evicts the least recently used flow. */
#ifndef WEFT_CONNTRACK_H
#define WEFT_CONNTRACK_H

#include "consts.h"
#include "maps.h"
#include "parse.h"

static __always_inline struct weft_ct_value *ct_lookup(struct weft_ct_key *k, __u8 proto, __u64 now)
{
	struct weft_ct_value *v = bpf_map_lookup_elem(&weft_ct, k);
	if (!v)
		return 0;
	__u64 timeout = (proto == IPPROTO_TCP || proto == IPPROTO_SCTP) ? WEFT_CT_TIMEOUT_STREAM_NS : WEFT_CT_TIMEOUT_DATAGRAM_NS;
	if (now - v->last_seen_ns > timeout)
		return 0;
	/* Refresh at most once a second: a write per packet would bounce the entry's cache line
	 * between CPUs for nothing, timeouts are minutes. */
	if (now - v->last_seen_ns > WEFT_CT_REFRESH_NS)
		v->last_seen_ns = now;
	return v;
}

/* This packet's entry, or for an ICMP error the entry of the flow it quotes (related). */
static __always_inline int ct_established(struct weft_pkt *p, __u32 ep_id, __u8 dir, __u64 now)
{
	struct weft_ct_key k = {.endpoint_id = ep_id, .direction = dir, .proto = p->proto, .sport = p->ct_sport, .dport = p->ct_dport};
	__builtin_memcpy(k.src, p->src, 16);
	__builtin_memcpy(k.dst, p->dst, 16);
	if (ct_lookup(&k, p->proto, now))
		return 1;
	if (!p->has_inner)
		return 0;
	struct weft_ct_key ik = {.endpoint_id = ep_id, .direction = dir, .proto = p->inner_proto, .sport = p->inner_sport, .dport = p->inner_dport};
	__builtin_memcpy(ik.src, p->inner_src, 16);
	__builtin_memcpy(ik.dst, p->inner_dst, 16);
	return ct_lookup(&ik, p->inner_proto, now) != 0;
}

/* The flow's entry and the reverse one: replies arrive in the other direction of the same endpoint. */
static __always_inline void ct_create(struct weft_pkt *p, __u32 ep_id, __u8 dir, __u32 rule_id, __u64 now)
{
	struct weft_ct_value cv = {.last_seen_ns = now, .rule_id = rule_id};
	struct weft_ct_key k = {.endpoint_id = ep_id, .direction = dir, .proto = p->proto, .sport = p->ct_sport, .dport = p->ct_dport};
	__builtin_memcpy(k.src, p->src, 16);
	__builtin_memcpy(k.dst, p->dst, 16);
	bpf_map_update_elem(&weft_ct, &k, &cv, BPF_ANY);
	struct weft_ct_key rk = {.endpoint_id = ep_id, .direction = !dir, .proto = p->proto, .sport = p->ct_dport, .dport = p->ct_sport};
	__builtin_memcpy(rk.src, p->dst, 16);
	__builtin_memcpy(rk.dst, p->src, 16);
	bpf_map_update_elem(&weft_ct, &rk, &cv, BPF_ANY);
}

#endif
