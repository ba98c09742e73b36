/* Verdict events to userspace over the weft_events ring buffer (deny, audit, sampled allow),
 * decoded by datapath/layout.ts decEvent. A full ring buffer loses the event, never the verdict,
 * and counts the loss. */
#ifndef WEFT_EVENTS_H
#define WEFT_EVENTS_H

#include <bpf/bpf_endian.h>
#include "counters.h"
#include "maps.h"
#include "parse.h"

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

#endif
