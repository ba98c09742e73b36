/* The FQDN part of a verdict: a new flow out of a pod to an address learned from a DNS answer
 * (dns.h) for a domainNames pattern of the active tables. The compiler wrote, for each pattern and
 * each identity such an address can have (the world, a CIDR class), the verdicts the address gets
 * as a "synthetic" rule peer: index and identity in one u32 (WEFT_FQDN_PEER_BIT). Only allows are
 * written: domainNames only appear in Accept rules, so matching one can only turn a deny into an
 * allow, and an address learned for several patterns is allowed when any one allows it. */
#ifndef WEFT_FQDN_H
#define WEFT_FQDN_H

#include "maps.h"
#include "parse.h"
#include "types.h"

static __always_inline struct weft_verdict *fqdn_verdict(struct weft_pkt *p, __u32 slot, __u32 set, __u32 peer, __u64 now)
{
	if (peer > WEFT_FQDN_IDENTITY_MASK)
		return 0;
	struct weft_fqdn_learned *l = bpf_map_lookup_elem(&weft_fqdn_learned, p->dst);
	if (!l)
		return 0;
	for (int i = 0; i < WEFT_FQDN_HITS; i++) {
		if (l->hit[i].expires_ns <= now)
			continue; /* expired, or empty */
		struct weft_fqdn_name_key nk = {.slot = slot, .pattern = l->hit[i].pattern};
		struct weft_fqdn_name_value *nv = bpf_map_lookup_elem(&weft_fqdn_names, &nk);
		if (!nv)
			continue; /* a pattern no longer in the tables */
		struct weft_rule_key rk = {
			.prefixlen = WEFT_RULE_FULL_PREFIXLEN,
			.slot = slot,
			.set = set,
			.peer = WEFT_FQDN_PEER_BIT | nv->index << WEFT_FQDN_INDEX_SHIFT | peer,
			.proto = p->proto,
			.port = is_ported(p->proto) ? p->dport : 0,
		};
		struct weft_verdict *v = bpf_map_lookup_elem(&weft_rules_exact, &rk);
		if (!v)
			v = bpf_map_lookup_elem(&weft_rules, &rk);
		if (v && v->verdict == WEFT_VERDICT_ALLOW)
			return v;
	}
	return 0;
}

#endif
