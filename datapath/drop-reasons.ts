// Why the kernel datapath dropped a packet: the names userspace reports (Counters.drops) and their
// numbers in the kernel, enum weft_drop_reason in bpf/lib/types.h (layout.test.ts checks this table
// against the enum in the objects' BTF, names and values).
export const DROP_REASONS = {
  /** A deny verdict: a rule or a set's default. The only reason the in-memory datapath can see. */
  policy: 1,
  /** A set without its default entry: fail closed. Tables written by apply() always have one. */
  'no-verdict': 2,
  'truncated-ethernet': 3,
  /** Shorter than its IPv4 or IPv6 header (IPv4 options included). */
  'truncated-ip': 4,
  /** Wrong IP version, IPv4 ihl < 5 or total length shorter than the header. */
  'bad-ip-header': 5,
  'truncated-ipv6-ext': 6,
  /** TCP/UDP/SCTP ports or the ICMP header cut short. */
  'truncated-l4': 7,
  /** A fragment at offset 8 bytes, which could rewrite the first fragment's ports (RFC 1858). */
  'tiny-fragment': 8,
} as const;

export type DropReason = keyof typeof DROP_REASONS;

export const DROP_REASON_NAMES = Object.keys(DROP_REASONS) as DropReason[];

/** The C enumerator of a reason: policy -> WEFT_DROP_POLICY. */
export const dropReasonEnumerator = (r: DropReason): string => `WEFT_DROP_${r.toUpperCase().replaceAll('-', '_')}`;

/** weft_drops' capacity: one slot per reason number, 0 unused (WEFT_DROP__MAX). */
export const DROP_SLOTS = Math.max(...Object.values(DROP_REASONS)) + 1;

/** Every reason at zero: what a datapath reports before its first drop. */
export function noDrops(): Record<DropReason, { packets: bigint; bytes: bigint }> {
  return Object.fromEntries(DROP_REASON_NAMES.map((r) => [r, { packets: 0n, bytes: 0n }])) as Record<DropReason, { packets: bigint; bytes: bigint }>;
}
