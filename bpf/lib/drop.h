/* The one way a program drops a packet: count it under its reason (weft_drops, per CPU), then
 * return TC_ACT_SHOT. Policy drops are also reported as deny events (events.h) with their rule;
 * malformed packets are only counted: they belong to no endpoint and no flow an event could name,
 * and a flood of garbage must not crowd the verdict events out of the ring buffer. */
#ifndef WEFT_DROP_H
#define WEFT_DROP_H

#include "consts.h"
#include "maps.h"

/* Not inlined: keeps enum weft_drop_reason in the object's BTF, where layout.test.ts reads it,
 * and it runs only for dropped packets. */
static __noinline int drop(enum weft_drop_reason reason, __u32 bytes)
{
	__u32 key = reason;
	struct weft_counter_value *v = bpf_map_lookup_elem(&weft_drops, &key);
	if (v) {
		v->packets++;
		v->bytes += bytes;
	}
	return TC_ACT_SHOT;
}

#endif
