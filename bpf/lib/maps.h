/* Every map of the datapath, pinned by name (under the layout directory the agent picks:
 * datapath/pin-layout.ts). Capacities here are placeholders: the agent sets each one before load
 * from its MapLimits and options (datapath/libbpf-datapath.ts mapSizes), and the layout test checks
 * that every map here has the key and value datapath/layout.ts MAP_LAYOUTS reads and writes. */
#ifndef WEFT_MAPS_H
#define WEFT_MAPS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "types.h"

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

/* Drops by reason (enum weft_drop_reason): an array, so counting a drop never fails for lack
 * of room, the way a hash of counters can. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WEFT_DROP__MAX);
	__type(key, __u32);
	__type(value, struct weft_counter_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_drops SEC(".maps");

/* The domainNames patterns of both halves of the tables (fqdn.h). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct weft_fqdn_name_key);
	__type(value, struct weft_fqdn_name_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_fqdn_names SEC(".maps");

/* Addresses learned from the DNS answers pods receive (dns.h), pinned: they outlive the agent.
 * LRU: learning never fails for lack of room; the agent sizes it and sweeps what expired. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct weft_fqdn_addr);
	__type(value, struct weft_fqdn_learned);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_fqdn_learned SEC(".maps");

/* Per-CPU room to parse one DNS answer (dns.h); pinned like the rest so both programs share one. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct weft_dns_scratch);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_dns_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 18); /* the agent's default */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_events SEC(".maps");

#endif
