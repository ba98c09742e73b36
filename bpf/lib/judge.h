/* The per-packet algorithm, shared by both attach points (datapath/testing/memory-datapath.ts
 * mirrors it):
 *   ARP and IPv6 neighbor discovery pass; malformed IP drops, counted by reason (parse.h, drop.h);
 *   endpoint = endpoints[slot, pod-side IP] (none: pass);
 *   conntrack hit (established, reply, or ICMP error about an allowed flow): pass (conntrack.h);
 *   a DNS answer passing into the pod teaches its addresses first (dns.h);
 *   set = ingress or egress set (0: allow); verdict by peer identity, protocol and port (policy.h),
 *   and for a denied egress to an address learned from DNS, by the names it was learned for (fqdn.h);
 *   an allow creates the flow's conntrack entries; deny and audit are reported, allows sampled
 *   (events.h); a deny drops, counted as a policy drop. */
#ifndef WEFT_JUDGE_H
#define WEFT_JUDGE_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "consts.h"
#include "conntrack.h"
#include "counters.h"
#include "dns.h"
#include "drop.h"
#include "events.h"
#include "fqdn.h"
#include "maps.h"
#include "parse.h"
#include "policy.h"
#include "types.h"

static __always_inline int judge(struct __sk_buff *skb, __u8 dir)
{
	struct weft_pkt p = {};
	__u32 bytes = skb->len;
	int r = parse(skb, &p);
	if (r == PARSE_PASS)
		return TC_ACT_OK;
	if (r != PARSE_JUDGE)
		return drop(r, bytes);

	__u32 zero = 0;
	struct weft_state *st = bpf_map_lookup_elem(&weft_state, &zero);
	if (!st)
		return TC_ACT_OK;
	/* One read: the slot and the generation always belong together. */
	__u64 active = *(volatile __u64 *)&st->active;
	if (!active)
		return TC_ACT_OK; /* nothing applied yet */
	__u32 slot = active & WEFT_STATE_SLOT_MASK;
	__u64 gen = active >> WEFT_STATE_SLOT_BITS;

	struct weft_endpoint_key ek = {.slot = slot};
	__builtin_memcpy(ek.addr, dir == WEFT_DIR_EGRESS ? p.src : p.dst, 16);
	struct weft_endpoint_value *ep = bpf_map_lookup_elem(&weft_endpoints, &ek);
	if (!ep)
		return TC_ACT_OK;
	__u32 ep_id = ep->endpoint_id;
	__u64 now = bpf_ktime_get_ns();

	if (ct_established(&p, ep_id, dir, now)) {
		/* A DNS answer to the pod's own query: its addresses are learned before the pod reads it. */
		if (dir == WEFT_DIR_INGRESS && is_dns_reply(&p))
			dns_learn(skb, p.l4_off, p.proto, slot, now);
		count(WEFT_COUNT_ENDPOINT, ep_id, WEFT_EV_ALLOW, bytes);
		return TC_ACT_OK;
	}

	__u32 set = dir == WEFT_DIR_INGRESS ? ep->ingress_set : ep->egress_set;
	struct weft_verdict v = {.verdict = WEFT_VERDICT_ALLOW};
	int no_verdict = 0;
	if (set) {
		__u32 peer = peer_identity(slot, dir == WEFT_DIR_EGRESS ? p.dst : p.src);
		struct weft_verdict *rv = policy_verdict(&p, slot, set, peer);
		/* Not allowed by address: maybe by a name the destination was learned for. */
		if (dir == WEFT_DIR_EGRESS && (!rv || rv->verdict != WEFT_VERDICT_ALLOW)) {
			struct weft_verdict *fv = fqdn_verdict(&p, slot, set, peer, now);
			if (fv)
				rv = fv;
		}
		if (rv) {
			v = *rv;
		} else {
			v.verdict = WEFT_VERDICT_DENY; /* a set without its entry: fail closed */
			no_verdict = 1;
		}
	}

	__u8 ev = v.verdict != WEFT_VERDICT_ALLOW ? WEFT_EV_DENY : v.audit_rule_id ? WEFT_EV_AUDIT : WEFT_EV_ALLOW;
	__u32 rule = ev == WEFT_EV_AUDIT ? v.audit_rule_id : v.rule_id;
	count(WEFT_COUNT_ENDPOINT, ep_id, ev, bytes);
	if (set)
		count(WEFT_COUNT_RULE, rule, ev, bytes);

	if (ev != WEFT_EV_DENY)
		ct_create(&p, ep_id, dir, v.rule_id, now);

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
	if (ev == WEFT_EV_AUDIT)
		return TC_ACT_OK;
	return drop(no_verdict ? WEFT_DROP_NO_VERDICT : WEFT_DROP_POLICY, bytes);
}

#endif
