/* The policy lookup, O(1) in the rule count: the peer's identity (host hash, else LPM ipcache,
 * else the world), then the verdict (exact rule hash, else LPM rules by set, peer, protocol and
 * port prefix, else the set's default). policy/lookup.ts is the reference it must agree with. */
#ifndef WEFT_POLICY_H
#define WEFT_POLICY_H

#include "maps.h"
#include "parse.h"

static __always_inline __u32 peer_identity(__u32 slot, __u8 addr[16])
{
	struct weft_ipcache_key k = {.prefixlen = WEFT_IPCACHE_HOST_PREFIXLEN, .slot = slot};
	__builtin_memcpy(k.addr, addr, 16);
	struct weft_ipcache_value *id = bpf_map_lookup_elem(&weft_ipcache_hosts, &k);
	if (!id)
		id = bpf_map_lookup_elem(&weft_ipcache, &k);
	return id ? id->identity : WEFT_IDENTITY_WORLD;
}

/* The verdict for the packet in `set` (non-zero), or 0 when the set has no default entry (a table
 * written by hand or half removed): the caller fails closed. */
static __always_inline struct weft_verdict *policy_verdict(struct weft_pkt *p, __u32 slot, __u32 set, __u32 peer)
{
	struct weft_rule_key rk = {
		.prefixlen = WEFT_RULE_FULL_PREFIXLEN,
		.slot = slot,
		.set = set,
		.peer = peer,
		.proto = p->proto,
		.port = is_ported(p->proto) ? p->dport : 0,
	};
	struct weft_verdict *v = bpf_map_lookup_elem(&weft_rules_exact, &rk);
	if (!v)
		v = bpf_map_lookup_elem(&weft_rules, &rk);
	if (!v) {
		struct weft_set_key sk = {.slot = slot, .set = set};
		v = bpf_map_lookup_elem(&weft_sets, &sk);
	}
	return v;
}

#endif
