/* Map keys, values, the event record and the numbers they carry, shared by the programs and
 * userspace. The TypeScript side declares the same layouts in datapath/layout.ts;
 * datapath/layout.test.ts compares both against the BTF of the built object (sizes, offsets, and
 * the values of enum weft_drop_reason), like Cilium's alignchecker. */
#ifndef WEFT_TYPES_H
#define WEFT_TYPES_H

#include "vmlinux.h"

/* Addresses are 16 bytes: IPv4 as v4-mapped IPv6 (::ffff:a.b.c.d), so one map serves both families. */

/* The active generation: one 8-byte word, (generation << 8) | slot, read once per packet, so a
 * packet never sees the slot of one generation and the number of another. */
struct weft_state {
	__u64 active;
};
#define WEFT_STATE_SLOT_BITS 8
#define WEFT_STATE_SLOT_MASK ((1 << WEFT_STATE_SLOT_BITS) - 1)

struct weft_config {
	/* Report one allow in allow_sample_rate (0: none). */
	__u32 allow_sample_rate;
	/* A learned FQDN address lives max(TTL, fqdn_min_ttl) + fqdn_grace seconds (dns.h). */
	__u32 fqdn_min_ttl;
	__u32 fqdn_grace;
	__u32 pad;
	/* The name hash's odd multiplier and its inverse mod 2^64: random per node, so nobody outside
	 * can aim a crafted name at a pattern's hash (dns.h). 0: learning off. */
	__u64 fqdn_hash_base;
	__u64 fqdn_hash_inv;
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

/* A host entry's prefixlen: every bit after prefixlen itself (slot and the whole address). */
#define WEFT_IPCACHE_HOST_PREFIXLEN ((sizeof(struct weft_ipcache_key) - __builtin_offsetof(struct weft_ipcache_key, slot)) * 8)

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
/* A rule key's full prefixlen (slot, set, peer, proto, pad, port): an exact rule. The shorter
 * prefixes (any protocol, any port) are written by userspace: policy/tables.ts RULE_PREFIX_*. */
#define WEFT_RULE_FULL_PREFIXLEN ((sizeof(struct weft_rule_key) - __builtin_offsetof(struct weft_rule_key, slot)) * 8)

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

/* A domainNames pattern of the active tables: its 64-bit name hash (exact name, or the suffix of a
 * "*." wildcard xor WEFT_FQDN_WILDCARD) -> its index, which names its synthetic rule peers. */
struct weft_fqdn_name_key {
	__u32 slot;
	__u32 pad;
	__u64 pattern;
};

struct weft_fqdn_name_value {
	__u32 index;
};

/* An address learned from a DNS answer: up to WEFT_FQDN_HITS patterns it was learned for, each
 * with its expiry (bpf_ktime_get_ns). Keyed by the 16-byte address. Not slotted: learned state
 * outlives generations, matched against each generation's patterns by hash. */
struct weft_fqdn_addr {
	__u8 addr[16];
};

struct weft_fqdn_hit {
	__u64 pattern;
	__u64 expires_ns;
};

#define WEFT_FQDN_HITS 4
struct weft_fqdn_learned {
	struct weft_fqdn_hit hit[WEFT_FQDN_HITS];
};

/* A rule peer standing for "an address learned for pattern <index>, of identity <identity>":
 * the compiler writes the verdicts those addresses get (policy/compile/fqdn-peers.ts). */
#define WEFT_FQDN_PEER_BIT 0x80000000u
#define WEFT_FQDN_INDEX_SHIFT 20
#define WEFT_FQDN_IDENTITY_MASK ((1u << WEFT_FQDN_INDEX_SHIFT) - 1)
/* Wildcard patterns are the hash of their suffix xor this, so "*.a.b" never equals "a.b". */
#define WEFT_FQDN_WILDCARD 0x9e3779b97f4a7c15ULL

/* DNS answers are copied here (per CPU) and parsed by bpf_loop callbacks, whose state lives here
 * too: the stack of a tc program and its callbacks is 512 bytes in all (dns.h). */
#define WEFT_DNS_BUF 2048 /* room for a message: 2047 bytes of it are parsed, records past them are not learned */
#define WEFT_DNS_MAX_LABELS 16 /* label starts of the question remembered: its last 16 suffixes */
#define WEFT_DNS_MAX_MATCH 4 /* patterns one question can match */
struct weft_dns_scratch {
	__u8 buf[WEFT_DNS_BUF];
	__u64 sum[WEFT_DNS_MAX_LABELS];
	__u64 ipow[WEFT_DNS_MAX_LABELS];
	__u64 match[WEFT_DNS_MAX_MATCH];
	struct weft_fqdn_learned learned;
	__u64 hsum;
	__u64 hpow;
	__u64 hipow;
	__u64 base;
	__u64 inv;
	__u64 now;
	__u32 min_ttl;
	__u32 grace;
	__u32 pos;
	__u32 len;
	__u32 labels;
	__u32 remaining;
	__u32 state;
	__u32 answers;
	__u32 nmatch;
	__u32 learned_count;
};

#define WEFT_DIR_INGRESS 0
#define WEFT_DIR_EGRESS 1

#define WEFT_VERDICT_ALLOW 1
#define WEFT_VERDICT_DENY 2

#define WEFT_EV_ALLOW 0
#define WEFT_EV_DENY 1
#define WEFT_EV_AUDIT 2

/* weft_counters key kinds: by rule (id: attribution id) and by endpoint (id: endpoint id), by verdict. */
#define WEFT_COUNT_RULE 0
#define WEFT_COUNT_ENDPOINT 1
/* Events the ring buffer had no room for (id 0, by verdict): the consumer fell behind. */
#define WEFT_COUNT_EVENTS_LOST 2

/* Why a packet was dropped: the index of weft_drops, a per-CPU array of weft_counter_value. Every
 * TC_ACT_SHOT the programs return goes through drop() (drop.h) with one of these. An enum, not
 * defines, so it is in the object's BTF and layout.test.ts checks datapath/layout.ts DROP_REASONS
 * against it. 0 is never used: an all-zero key is not a reason. */
enum weft_drop_reason {
	WEFT_DROP_POLICY = 1, /* a deny verdict (rule or set default) */
	WEFT_DROP_NO_VERDICT = 2, /* a set without its default entry: fail closed (tables half written) */
	WEFT_DROP_TRUNCATED_ETHERNET = 3, /* shorter than an Ethernet header */
	WEFT_DROP_TRUNCATED_IP = 4, /* shorter than its IPv4 or IPv6 header, IPv4 options included */
	WEFT_DROP_BAD_IP_HEADER = 5, /* wrong version, IPv4 ihl < 5 or total length < header */
	WEFT_DROP_TRUNCATED_IPV6_EXT = 6, /* an IPv6 extension header cut short */
	WEFT_DROP_TRUNCATED_L4 = 7, /* the TCP/UDP/SCTP ports or ICMP header cut short */
	WEFT_DROP_TINY_FRAGMENT = 8, /* a fragment at offset 8: could rewrite the ports (RFC 1858) */
	WEFT_DROP__MAX, /* weft_drops' max_entries */
};

#define WEFT_IDENTITY_WORLD 1

#endif
