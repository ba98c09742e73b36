/* Per-CPU counters by rule and by endpoint, per verdict (weft_counters), read and summed over CPUs
 * by datapath/libbpf-datapath.ts counters(). */
#ifndef WEFT_COUNTERS_H
#define WEFT_COUNTERS_H

#include "maps.h"

/* A counter the hash has no room for (weft_counters full) is not counted: the map is sized for
 * the rules and endpoints that see traffic, and a lost count drops no packet. */
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

#endif
