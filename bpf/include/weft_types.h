/* Map keys, values and the event record shared by the programs and userspace.
 * The TypeScript side declares the same layouts in bpf/layout.ts; bpf/layout.test.ts compares
 * both against the BTF of the built object (sizes, offsets), like Cilium's alignchecker. */
#ifndef WEFT_TYPES_H
#define WEFT_TYPES_H

/* Addresses are 16 bytes: IPv4 as v4-mapped IPv6 (::ffff:a.b.c.d), so one map serves both families. */

/* The active generation: one 8-byte word, (generation << 8) | slot, read once per packet, so a
 * packet never sees the slot of one generation and the number of another. */
struct weft_state {
	__u64 active;
};

struct weft_config {
	/* Report one allow in allow_sample_rate (0: none). */
	__u32 allow_sample_rate;
	__u32 pad;
};

struct weft_endpoint_key {
	__u32 slot;
	__u8 addr[16];
};

struct weft_endpoint_value {
	__u32 endpoint_id;
	__u32 ingress_set;
	__u32 egress_set;
	__u32 pad;
};

/* LPM: prefixlen counts bits after itself: slot(32) + addr(128). */
struct weft_ipcache_key {
	__u32 prefixlen;
	__u32 slot;
	__u8 addr[16];
};

struct weft_ipcache_value {
	__u32 identity;
};

struct weft_set_key {
	__u32 slot;
	__u32 set;
};

/* Also the value of a rule: what decides, and who. */
struct weft_verdict {
	__u32 verdict;
	__u32 rule_id;
	__u32 audit_rule_id;
};

/* LPM: prefixlen counts slot(32) + the tables' rule key bits: set(32) peer(32) proto(8) pad(8) port(16, BE). */
struct weft_rule_key {
	__u32 prefixlen;
	__u32 slot;
	__u32 set;
	__u32 peer;
	__u8 proto;
	__u8 pad;
	__be16 port;
};

/* Conntrack is per endpoint and direction: pod A's egress allow never opens pod B's ingress. */
struct weft_ct_key {
	__u32 endpoint_id;
	__u8 direction;
	__u8 proto;
	__be16 sport;
	__be16 dport;
	__u16 pad;
	__u8 src[16];
	__u8 dst[16];
};

struct weft_ct_value {
	__u64 last_seen_ns;
	__u32 rule_id;
	__u32 pad;
};

struct weft_counter_key {
	__u8 kind; /* WEFT_COUNT_* */
	__u8 verdict; /* WEFT_EV_* */
	__u16 pad;
	__u32 id;
};

struct weft_counter_value {
	__u64 packets;
	__u64 bytes;
};

struct weft_event {
	__u64 time_ns;
	__u64 generation;
	__u32 endpoint_id;
	__u32 rule_id;
	__u8 src[16];
	__u8 dst[16];
	__u16 sport; /* host order; ICMP: type */
	__u16 dport; /* host order; ICMP: code */
	__u8 proto;
	__u8 direction; /* WEFT_DIR_* */
	__u8 verdict; /* WEFT_EV_* */
	__u8 pad;
};

#define WEFT_DIR_INGRESS 0
#define WEFT_DIR_EGRESS 1

#define WEFT_VERDICT_ALLOW 1
#define WEFT_VERDICT_DENY 2

#define WEFT_EV_ALLOW 0
#define WEFT_EV_DENY 1
#define WEFT_EV_AUDIT 2

#define WEFT_COUNT_RULE 0
#define WEFT_COUNT_ENDPOINT 1
/* Events the ring buffer had no room for (id 0, by verdict): the consumer fell behind. */
#define WEFT_COUNT_EVENTS_LOST 2

#define WEFT_IDENTITY_WORLD 1

#endif
