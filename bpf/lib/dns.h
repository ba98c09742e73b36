/* FQDN learning: a DNS answer on its way into a pod (a reply to the pod's own query, so conntrack
 * let it in) is parsed here, before the program returns and the pod can read it. When its question
 * matches a domainNames pattern of the active tables, every A and AAAA record of its answer section
 * is written to weft_fqdn_learned for those patterns, with expiry now + max(TTL, min) + grace. So
 * the first connection after the answer finds its address: there is no window, and no agent in the
 * path (docs/datapath.md "FQDN egress").
 *
 * The question's name is hashed while it is read: with S_k = sum_{i<k} b_i B^i over the wire bytes
 * (length octets and lowercased label bytes, no root octet), the hash of the suffix starting at
 * byte j is (S_n - S_j) * B^-j mod 2^64, the same polynomial datapath/fqdn-hash.ts computes for a
 * pattern. B is odd (invertible mod 2^64) and random per node. So one forward pass gives the hash
 * of the whole name (exact patterns) and of every suffix at a label start (wildcards: "*.a.b"
 * matches x.a.b and y.x.a.b, never a.b).
 *
 * Handled: CNAME chains (the records are matched by the question, whatever owner the chain gives
 * them), compression pointers in answer names, TTL 0 and TTLs with the top bit set (as 0, RFC 2181),
 * truncated (TC) answers and answers cut short (the complete records before the cut are learned),
 * malformed answers (parsing stops at the first inconsistency), DNS over TCP when the segment
 * starts a message (its length prefix). Not learned: compressed or > 16-label questions' lost
 * suffixes, records past WEFT_DNS_BUF bytes, a TCP message's later segments. */
#ifndef WEFT_DNS_H
#define WEFT_DNS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "consts.h"
#include "maps.h"
#include "parse.h"
#include "types.h"

#define DNS_PORT 53
#define DNS_HDR_LEN 12
#define DNS_QR 0x80 /* flags byte 2 */
#define DNS_OPCODE_MASK 0x78
#define DNS_RCODE_MASK 0x0f /* flags byte 3 */
#define DNS_TYPE_A 1
#define DNS_TYPE_AAAA 28
#define DNS_CLASS_IN 1
#define DNS_RR_FIXED 10 /* type, class, ttl, rdlength */
#define DNS_LABEL_MAX 63
#define DNS_POINTER 0xc0
#define DNS_NAME_MAX 255
#define DNS_MAX_ANSWERS 64
/* Steps of the answer walk: one per label of an owner name or per record's fixed part. */
#define DNS_MAX_STEPS 1024
#define DNS_BUF_MASK (WEFT_DNS_BUF - 1)
#define DNS_TTL_SIGN 0x80000000u
#define TCP_DOFF_OFF 12 /* data offset: the high nibble of byte 12 of the TCP header */
#define DNS_TCP_LEN_PREFIX 2

#define DNS_STEP_NAME 0
#define DNS_STEP_FIXED 1

static __always_inline struct weft_dns_scratch *dns_scratch(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&weft_dns_scratch, &zero);
}

static __always_inline __u8 dns_byte(struct weft_dns_scratch *s, __u32 i)
{
	return s->buf[i & DNS_BUF_MASK];
}

static __always_inline __u32 dns_u16(struct weft_dns_scratch *s, __u32 i)
{
	return (__u32)dns_byte(s, i) << 8 | dns_byte(s, i + 1);
}

/* One byte of the question name. Returns 1 to stop (end of the name, or a name we do not take). */
static long dns_qname_step(__u32 i, void *unused)
{
	struct weft_dns_scratch *s = dns_scratch();
	if (!s)
		return 1;
	__u32 pos = s->pos;
	if (pos >= s->len || i >= DNS_NAME_MAX) {
		s->state = 0;
		return 1;
	}
	__u8 b = dns_byte(s, pos);
	if (s->remaining == 0) {
		if (b == 0) {
			s->pos = pos + 1;
			s->state = 1; /* a whole name */
			return 1;
		}
		if (b > DNS_LABEL_MAX) {
			s->state = 0; /* a pointer or an extended label in a question: not a name we match */
			return 1;
		}
		__u32 k = s->labels & (WEFT_DNS_MAX_LABELS - 1);
		s->sum[k] = s->hsum;
		s->ipow[k] = s->hipow;
		s->labels++;
		s->remaining = b;
	} else {
		if (b >= 'A' && b <= 'Z')
			b += 'a' - 'A';
		s->remaining--;
	}
	s->hsum += (__u64)b * s->hpow;
	s->hpow *= s->base;
	s->hipow *= s->inv;
	s->pos = pos + 1;
	return 0;
}

/* Writes (or lengthens) the address's entries for every matched pattern. */
static __always_inline void dns_learn_addr(struct weft_dns_scratch *s, struct weft_fqdn_addr *a, __u64 expires)
{
	struct weft_fqdn_learned *cur = bpf_map_lookup_elem(&weft_fqdn_learned, a);
	if (cur)
		__builtin_memcpy(&s->learned, cur, sizeof(s->learned));
	else
		__builtin_memset(&s->learned, 0, sizeof(s->learned));
	for (int m = 0; m < WEFT_DNS_MAX_MATCH; m++) {
		if (m >= s->nmatch)
			break;
		__u64 pattern = s->match[m];
		/* Its own entry, else the one expiring first (empty and expired entries first of all). */
		int at = -1, first = 0;
		for (int j = 0; j < WEFT_FQDN_HITS; j++) {
			if (s->learned.hit[j].pattern == pattern && s->learned.hit[j].expires_ns)
				at = j;
			if (s->learned.hit[j].expires_ns < s->learned.hit[first].expires_ns)
				first = j;
		}
		if (at < 0) {
			at = first;
			s->learned.hit[at & (WEFT_FQDN_HITS - 1)].expires_ns = 0;
		}
		struct weft_fqdn_hit *h = &s->learned.hit[at & (WEFT_FQDN_HITS - 1)];
		h->pattern = pattern;
		/* Two names on one address: the later expiry wins, an answer never shortens another's. */
		if (h->expires_ns < expires)
			h->expires_ns = expires;
	}
	/* One update replaces the whole value: a packet judged meanwhile sees the old or the new. */
	bpf_map_update_elem(&weft_fqdn_learned, a, &s->learned, BPF_ANY);
	s->learned_count++;
}

/* One step of the answer section: a label of an owner name, or a record's fixed part and data. */
static long dns_answer_step(__u32 i, void *unused)
{
	struct weft_dns_scratch *s = dns_scratch();
	if (!s)
		return 1;
	__u32 pos = s->pos;
	if (s->answers == 0 || pos >= s->len)
		return 1;
	if (s->state == DNS_STEP_NAME) {
		__u8 c = dns_byte(s, pos);
		if (c == 0) {
			s->pos = pos + 1;
			s->state = DNS_STEP_FIXED;
		} else if ((c & DNS_POINTER) == DNS_POINTER) {
			s->pos = pos + 2; /* a pointer ends the name */
			s->state = DNS_STEP_FIXED;
		} else if (c > DNS_LABEL_MAX) {
			return 1; /* malformed: stop, keep what was learned */
		} else {
			s->pos = pos + 1 + c;
		}
		return 0;
	}
	/* The fixed part and the data must be whole: a record cut short ends the walk. */
	if (pos + DNS_RR_FIXED > s->len)
		return 1;
	__u32 type = dns_u16(s, pos);
	__u32 class = dns_u16(s, pos + 2);
	__u32 ttl = dns_u16(s, pos + 4) << 16 | dns_u16(s, pos + 6);
	__u32 rdlen = dns_u16(s, pos + 8);
	__u32 data = pos + DNS_RR_FIXED;
	if (data + rdlen > s->len)
		return 1;
	if (class == DNS_CLASS_IN && ((type == DNS_TYPE_A && rdlen == 4) || (type == DNS_TYPE_AAAA && rdlen == 16))) {
		struct weft_fqdn_addr a = {};
		if (type == DNS_TYPE_A) {
			a.addr[10] = 0xff;
			a.addr[11] = 0xff;
			for (int k = 0; k < 4; k++)
				a.addr[12 + k] = dns_byte(s, data + k);
		} else {
			for (int k = 0; k < 16; k++)
				a.addr[k] = dns_byte(s, data + k);
		}
		if (ttl & DNS_TTL_SIGN)
			ttl = 0; /* RFC 2181 8: a TTL with the top bit set is 0 */
		__u64 secs = (ttl > s->min_ttl ? ttl : s->min_ttl) + (__u64)s->grace;
		dns_learn_addr(s, &a, s->now + secs * NSEC_PER_SEC);
	}
	s->pos = data + rdlen;
	s->state = DNS_STEP_NAME;
	s->answers--;
	return 0;
}

/* The DNS message of a reply from port 53 entering the pod: learn its addresses when its question
 * matches a pattern of the active slot. Not inlined: verified once, apart from judge(). */
static __noinline int dns_learn(struct __sk_buff *skb, __u32 l4_off, __u8 proto, __u32 slot, __u64 now)
{
	__u32 zero = 0;
	struct weft_config *cfg = bpf_map_lookup_elem(&weft_config, &zero);
	if (!cfg || !cfg->fqdn_hash_base)
		return 0;
	struct weft_dns_scratch *s = dns_scratch();
	if (!s)
		return 0;
	__u32 off;
	__u32 msg_len = 0xffff;
	if (proto == IPPROTO_UDP) {
		off = l4_off + sizeof(struct udphdr);
	} else {
		__u8 doff;
		if (bpf_skb_load_bytes(skb, l4_off + TCP_DOFF_OFF, &doff, 1) < 0)
			return 0;
		off = l4_off + (doff >> 4) * 4;
		__be16 prefix;
		if (bpf_skb_load_bytes(skb, off, &prefix, DNS_TCP_LEN_PREFIX) < 0)
			return 0; /* no payload: a bare ACK or FIN */
		msg_len = bpf_ntohs(prefix);
		off += DNS_TCP_LEN_PREFIX;
	}
	if (off >= skb->len)
		return 0;
	__u32 n = skb->len - off;
	if (n > msg_len)
		n = msg_len;
	if (n > DNS_BUF_MASK)
		n = DNS_BUF_MASK;
	/* The mask again, in asm so clang keeps it, on the very register the helper takes: clang
	 * compares a 32-bit half and passes the 64-bit register, whose bounds the verifier does not know. */
	__u64 len = n;
	asm volatile("%0 &= 0x7ff" : "+r"(len));
	if (len < DNS_HDR_LEN)
		return 0;
	if (bpf_skb_load_bytes(skb, off, s->buf, len) < 0)
		return 0;
	/* A response (QR), a standard query (opcode 0), no error, one question. */
	__u8 f1 = s->buf[2], f2 = s->buf[3];
	if (!(f1 & DNS_QR) || (f1 & DNS_OPCODE_MASK) || (f2 & DNS_RCODE_MASK))
		return 0;
	if (dns_u16(s, 4) != 1)
		return 0;
	__u32 ancount = dns_u16(s, 6);
	if (ancount == 0)
		return 0;

	s->len = n;
	s->pos = DNS_HDR_LEN;
	s->labels = 0;
	s->remaining = 0;
	s->state = 0;
	s->hsum = 0;
	s->hpow = 1;
	s->hipow = 1;
	s->base = cfg->fqdn_hash_base;
	s->inv = cfg->fqdn_hash_inv;
	bpf_loop(DNS_NAME_MAX + 1, dns_qname_step, 0, 0);
	if (s->state != 1 || s->labels == 0)
		return 0;

	/* Which patterns of the active slot the question matches: the whole name exactly, or a
	 * suffix after at least one label through a wildcard. */
	s->nmatch = 0;
	__u32 labels = s->labels;
	for (int k = 0; k < WEFT_DNS_MAX_LABELS; k++) {
		if (k >= labels)
			break;
		/* The last WEFT_DNS_MAX_LABELS label starts are remembered. */
		__u32 start = labels > WEFT_DNS_MAX_LABELS ? labels - WEFT_DNS_MAX_LABELS + k : k;
		__u32 idx = start & (WEFT_DNS_MAX_LABELS - 1);
		__u64 h = (s->hsum - s->sum[idx]) * s->ipow[idx];
		struct weft_fqdn_name_key nk = {.slot = slot, .pattern = start == 0 ? h : h ^ WEFT_FQDN_WILDCARD};
		if (!bpf_map_lookup_elem(&weft_fqdn_names, &nk))
			continue;
		if (s->nmatch < WEFT_DNS_MAX_MATCH)
			s->match[s->nmatch & (WEFT_DNS_MAX_MATCH - 1)] = nk.pattern;
		s->nmatch++;
	}
	if (s->nmatch == 0)
		return 0;
	if (s->nmatch > WEFT_DNS_MAX_MATCH)
		s->nmatch = WEFT_DNS_MAX_MATCH;

	/* Skip the question's type and class; then the answer section. */
	s->pos += 4;
	s->answers = ancount > DNS_MAX_ANSWERS ? DNS_MAX_ANSWERS : ancount;
	s->state = DNS_STEP_NAME;
	s->now = now;
	s->min_ttl = cfg->fqdn_min_ttl;
	s->grace = cfg->fqdn_grace;
	s->learned_count = 0;
	bpf_loop(DNS_MAX_STEPS, dns_answer_step, 0, 0);
	return s->learned_count;
}

static __always_inline int is_dns_reply(struct weft_pkt *p)
{
	return (p->proto == IPPROTO_UDP || p->proto == IPPROTO_TCP) && p->sport == bpf_htons(DNS_PORT);
}

#endif
