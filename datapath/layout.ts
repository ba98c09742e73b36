// The TypeScript side of bpf/lib/types.h: every map key, value and the event record,
// declared once (size and field offsets) and used by the encoders below. layout.test.ts checks
// each against the BTF of the built object, so C and TypeScript cannot disagree silently.
import { RULE_PREFIX_ANY_PORT, RULE_PREFIX_ANY_PROTO } from '../policy/index.ts';
import type { FiveTuple, VerdictEvent } from './datapath.ts';
import { formatIpBytes, type IpBytes as Addr } from '../base/index.ts';

export interface StructLayout {
  size: number;
  /** field -> [byte offset, byte size] */
  fields: Record<string, [number, number]>;
}

export const LAYOUTS = {
  weft_state: { size: 8, fields: { active: [0, 8] } },
  weft_config: {
    size: 32,
    fields: { allow_sample_rate: [0, 4], fqdn_min_ttl: [4, 4], fqdn_grace: [8, 4], pad: [12, 4], fqdn_hash_base: [16, 8], fqdn_hash_inv: [24, 8] },
  },
  weft_endpoint_key: { size: 20, fields: { slot: [0, 4], addr: [4, 16] } },
  weft_endpoint_value: { size: 16, fields: { endpoint_id: [0, 4], ingress_set: [4, 4], egress_set: [8, 4], pad: [12, 4] } },
  weft_ipcache_key: { size: 24, fields: { prefixlen: [0, 4], slot: [4, 4], addr: [8, 16] } },
  weft_ipcache_value: { size: 4, fields: { identity: [0, 4] } },
  weft_set_key: { size: 8, fields: { slot: [0, 4], set: [4, 4] } },
  weft_verdict: { size: 12, fields: { verdict: [0, 4], rule_id: [4, 4], audit_rule_id: [8, 4] } },
  weft_rule_key: { size: 20, fields: { prefixlen: [0, 4], slot: [4, 4], set: [8, 4], peer: [12, 4], proto: [16, 1], pad: [17, 1], port: [18, 2] } },
  weft_ct_key: {
    size: 44,
    fields: { endpoint_id: [0, 4], direction: [4, 1], proto: [5, 1], sport: [6, 2], dport: [8, 2], pad: [10, 2], src: [12, 16], dst: [28, 16] },
  },
  weft_ct_value: { size: 16, fields: { last_seen_ns: [0, 8], rule_id: [8, 4], pad: [12, 4] } },
  weft_counter_key: { size: 8, fields: { kind: [0, 1], verdict: [1, 1], pad: [2, 2], id: [4, 4] } },
  weft_counter_value: { size: 16, fields: { packets: [0, 8], bytes: [8, 8] } },
  weft_fqdn_name_key: { size: 16, fields: { slot: [0, 4], pad: [4, 4], pattern: [8, 8] } },
  weft_fqdn_name_value: { size: 4, fields: { index: [0, 4] } },
  weft_fqdn_addr: { size: 16, fields: { addr: [0, 16] } },
  weft_fqdn_hit: { size: 16, fields: { pattern: [0, 8], expires_ns: [8, 8] } },
  weft_fqdn_learned: { size: 64, fields: { hit: [0, 64] } },
  weft_dns_scratch: {
    size: 2048 + 8 * 16 * 2 + 8 * 4 + 64 + 8 * 6 + 4 * 10,
    fields: {
      buf: [0, 2048],
      sum: [2048, 128],
      ipow: [2176, 128],
      match: [2304, 32],
      learned: [2336, 64],
      hsum: [2400, 8],
      hpow: [2408, 8],
      hipow: [2416, 8],
      base: [2424, 8],
      inv: [2432, 8],
      now: [2440, 8],
      min_ttl: [2448, 4],
      grace: [2452, 4],
      pos: [2456, 4],
      len: [2460, 4],
      labels: [2464, 4],
      remaining: [2468, 4],
      state: [2472, 4],
      answers: [2476, 4],
      nmatch: [2480, 4],
      learned_count: [2484, 4],
    },
  },
  weft_event: {
    size: 64,
    fields: {
      time_ns: [0, 8],
      generation: [8, 8],
      endpoint_id: [16, 4],
      rule_id: [20, 4],
      src: [24, 16],
      dst: [40, 16],
      sport: [56, 2],
      dport: [58, 2],
      proto: [60, 1],
      direction: [61, 1],
      verdict: [62, 1],
      pad: [63, 1],
    },
  },
} satisfies Record<string, StructLayout>;

type Name = keyof typeof LAYOUTS;

/**
 * Each map's key and value as the TypeScript side reads and writes them ('u32': a plain __u32;
 * per-CPU values are this struct per CPU). layout.test.ts checks them against the maps' BTF.
 */
export const MAP_LAYOUTS = {
  weft_state: { key: 'u32', value: 'weft_state' },
  weft_config: { key: 'u32', value: 'weft_config' },
  weft_endpoints: { key: 'weft_endpoint_key', value: 'weft_endpoint_value' },
  weft_ipcache: { key: 'weft_ipcache_key', value: 'weft_ipcache_value' },
  weft_ipcache_hosts: { key: 'weft_ipcache_key', value: 'weft_ipcache_value' },
  weft_sets: { key: 'weft_set_key', value: 'weft_verdict' },
  weft_rules: { key: 'weft_rule_key', value: 'weft_verdict' },
  weft_rules_exact: { key: 'weft_rule_key', value: 'weft_verdict' },
  weft_ct: { key: 'weft_ct_key', value: 'weft_ct_value' },
  weft_counters: { key: 'weft_counter_key', value: 'weft_counter_value' },
  /** Per-CPU array indexed by enum weft_drop_reason (drop-reasons.ts). */
  weft_drops: { key: 'u32', value: 'weft_counter_value' },
  weft_fqdn_names: { key: 'weft_fqdn_name_key', value: 'weft_fqdn_name_value' },
  weft_fqdn_learned: { key: 'weft_fqdn_addr', value: 'weft_fqdn_learned' },
  /** Per-CPU parse room of the DNS learning (bpf/lib/dns.h); userspace never reads it. */
  weft_dns_scratch: { key: 'u32', value: 'weft_dns_scratch' },
  /** A ring buffer has no key or value; its records are weft_event. */
  weft_events: { key: null, value: null },
} as const satisfies Record<string, { key: Name | 'u32' | null; value: Name | null }>;

export type MapName = keyof typeof MAP_LAYOUTS;
const off = <N extends Name>(n: N, f: keyof (typeof LAYOUTS)[N]['fields']): number => (LAYOUTS[n].fields as Record<string, [number, number]>)[f as string][0];

export const DIR = { ingress: 0, egress: 1 } as const;
export const EV = ['allow', 'deny', 'audit'] as const;
/** weft_counter_key.kind (WEFT_COUNT_* in bpf/lib/types.h). */
export const COUNT_RULE = 0;
export const COUNT_ENDPOINT = 1;
export const COUNT_EVENTS_LOST = 2;
/** The state word: (generation << STATE_SLOT_BITS) | slot (WEFT_STATE_SLOT_BITS). */
export const STATE_SLOT_BITS = 8n;
/** The bits of the slot field that leads every slotted LPM key, after prefixlen. */
const SLOT_BITS = 8 * LAYOUTS.weft_ipcache_key.fields.slot[1];

/** 16 bytes: IPv4 as v4-mapped IPv6, as the programs store addresses. */
export function addr16(a: Addr): Buffer {
  const b = Buffer.alloc(16);
  if (a.family === 4) {
    b[10] = 0xff;
    b[11] = 0xff;
    b.set(a.bytes, 12);
  } else b.set(a.bytes);
  return b;
}

/** The bits of a prefix once mapped to 16 bytes. */
export const prefixBits16 = (p: Addr & { len: number }) => (p.family === 4 ? 96 + p.len : p.len);

function from16(b: Buffer): string {
  const mapped = b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  return formatIpBytes(mapped ? { family: 4, bytes: b.subarray(12, 16) } : { family: 6, bytes: b });
}

export function encState(generation: number, slot: number): Buffer {
  const b = Buffer.alloc(LAYOUTS.weft_state.size);
  b.writeBigUInt64LE((BigInt(generation) << STATE_SLOT_BITS) | BigInt(slot), off('weft_state', 'active'));
  return b;
}

export function decState(b: Buffer): { generation: number; slot: number } {
  const v = b.readBigUInt64LE(off('weft_state', 'active'));
  return { generation: Number(v >> STATE_SLOT_BITS), slot: Number(v & ((1n << STATE_SLOT_BITS) - 1n)) };
}

export interface ConfigWord {
  allowSampleRate: number;
  fqdnMinTtl: number;
  fqdnGrace: number;
  /** The FQDN name hash's odd multiplier and its inverse mod 2^64 (fqdn-hash.ts). */
  fqdnHashBase: bigint;
  fqdnHashInv: bigint;
}

export function encConfig(c: ConfigWord): Buffer {
  const b = Buffer.alloc(LAYOUTS.weft_config.size);
  b.writeUInt32LE(c.allowSampleRate, off('weft_config', 'allow_sample_rate'));
  b.writeUInt32LE(c.fqdnMinTtl, off('weft_config', 'fqdn_min_ttl'));
  b.writeUInt32LE(c.fqdnGrace, off('weft_config', 'fqdn_grace'));
  b.writeBigUInt64LE(c.fqdnHashBase, off('weft_config', 'fqdn_hash_base'));
  b.writeBigUInt64LE(c.fqdnHashInv, off('weft_config', 'fqdn_hash_inv'));
  return b;
}

export function decConfig(b: Buffer): ConfigWord {
  return {
    allowSampleRate: b.readUInt32LE(off('weft_config', 'allow_sample_rate')),
    fqdnMinTtl: b.readUInt32LE(off('weft_config', 'fqdn_min_ttl')),
    fqdnGrace: b.readUInt32LE(off('weft_config', 'fqdn_grace')),
    fqdnHashBase: b.readBigUInt64LE(off('weft_config', 'fqdn_hash_base')),
    fqdnHashInv: b.readBigUInt64LE(off('weft_config', 'fqdn_hash_inv')),
  };
}

export function encFqdnNameKey(slot: number, pattern: bigint): Buffer {
  const b = Buffer.alloc(LAYOUTS.weft_fqdn_name_key.size);
  b.writeUInt32LE(slot, off('weft_fqdn_name_key', 'slot'));
  b.writeBigUInt64LE(pattern, off('weft_fqdn_name_key', 'pattern'));
  return b;
}

/** Entries of one learned address: (pattern hash, expiry in ns of CLOCK_MONOTONIC), empty ones left out. */
export interface LearnedHit {
  pattern: bigint;
  expiresNs: bigint;
}

const HIT = LAYOUTS.weft_fqdn_hit;
export const FQDN_HITS = LAYOUTS.weft_fqdn_learned.size / HIT.size;

export function encLearned(hits: readonly LearnedHit[]): Buffer {
  const b = Buffer.alloc(LAYOUTS.weft_fqdn_learned.size);
  hits.slice(0, FQDN_HITS).forEach((h, i) => {
    b.writeBigUInt64LE(h.pattern, i * HIT.size + HIT.fields.pattern[0]);
    b.writeBigUInt64LE(h.expiresNs, i * HIT.size + HIT.fields.expires_ns[0]);
  });
  return b;
}

export function decLearned(b: Buffer): LearnedHit[] {
  const out: LearnedHit[] = [];
  for (let i = 0; i < FQDN_HITS; i++) {
    const expiresNs = b.readBigUInt64LE(i * HIT.size + HIT.fields.expires_ns[0]);
    if (expiresNs !== 0n) out.push({ pattern: b.readBigUInt64LE(i * HIT.size + HIT.fields.pattern[0]), expiresNs });
  }
  return out;
}

export const decAddr16 = from16;

export function encEndpointKey(slot: number, a: Addr): Buffer {
  const b = Buffer.alloc(LAYOUTS.weft_endpoint_key.size);
  b.writeUInt32LE(slot, off('weft_endpoint_key', 'slot'));
  addr16(a).copy(b, off('weft_endpoint_key', 'addr'));
  return b;
}

export function encEndpointValue(endpointId: number, ingressSet: number, egressSet: number): Buffer {
  const b = Buffer.alloc(LAYOUTS.weft_endpoint_value.size);
  b.writeUInt32LE(endpointId, off('weft_endpoint_value', 'endpoint_id'));
  b.writeUInt32LE(ingressSet, off('weft_endpoint_value', 'ingress_set'));
  b.writeUInt32LE(egressSet, off('weft_endpoint_value', 'egress_set'));
  return b;
}

export function encIpcacheKey(slot: number, p: Addr & { len: number }): Buffer {
  const b = Buffer.alloc(LAYOUTS.weft_ipcache_key.size);
  b.writeUInt32LE(SLOT_BITS + prefixBits16(p), off('weft_ipcache_key', 'prefixlen'));
  b.writeUInt32LE(slot, off('weft_ipcache_key', 'slot'));
  addr16(p).copy(b, off('weft_ipcache_key', 'addr'));
  return b;
}

export function encU32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
}

export function encSetKey(slot: number, set: number): Buffer {
  const b = Buffer.alloc(LAYOUTS.weft_set_key.size);
  b.writeUInt32LE(slot, off('weft_set_key', 'slot'));
  b.writeUInt32LE(set, off('weft_set_key', 'set'));
  return b;
}

export function encVerdict(v: { verdict: number; ruleId: number; auditRuleId: number }): Buffer {
  const b = Buffer.alloc(LAYOUTS.weft_verdict.size);
  b.writeUInt32LE(v.verdict, off('weft_verdict', 'verdict'));
  b.writeUInt32LE(v.ruleId, off('weft_verdict', 'rule_id'));
  b.writeUInt32LE(v.auditRuleId, off('weft_verdict', 'audit_rule_id'));
  return b;
}

/** prefixlen = the slot's bits + the tables' rule bits: any protocol, or one protocol and a port prefix (policy/tables.ts). */
export function encRuleKey(slot: number, r: { set: number; peer: number; proto: number | null; port: number; portBits: number }): Buffer {
  const b = Buffer.alloc(LAYOUTS.weft_rule_key.size);
  const bits = r.proto === null ? RULE_PREFIX_ANY_PROTO : RULE_PREFIX_ANY_PORT + r.portBits;
  b.writeUInt32LE(SLOT_BITS + bits, off('weft_rule_key', 'prefixlen'));
  b.writeUInt32LE(slot, off('weft_rule_key', 'slot'));
  b.writeUInt32LE(r.set, off('weft_rule_key', 'set'));
  b.writeUInt32LE(r.peer, off('weft_rule_key', 'peer'));
  if (r.proto !== null) {
    b.writeUInt8(r.proto, off('weft_rule_key', 'proto'));
    const mask = r.portBits === 0 ? 0 : (0xffff << (16 - r.portBits)) & 0xffff;
    b.writeUInt16BE(r.port & mask, off('weft_rule_key', 'port'));
  }
  return b;
}

/** The slot a key of a slotted map belongs to (every slotted key has `slot` at the same place per struct). */
export function slotOf(struct: 'weft_endpoint_key' | 'weft_ipcache_key' | 'weft_set_key' | 'weft_rule_key' | 'weft_fqdn_name_key', key: Buffer): number {
  return key.readUInt32LE((LAYOUTS[struct].fields as Record<string, [number, number]>).slot[0]);
}

export function decCounterKey(b: Buffer): { kind: number; verdict: VerdictEvent['verdict']; id: number } {
  return {
    kind: b.readUInt8(off('weft_counter_key', 'kind')),
    verdict: EV[b.readUInt8(off('weft_counter_key', 'verdict'))],
    id: b.readUInt32LE(off('weft_counter_key', 'id')),
  };
}

/** Sum of a per-CPU counter value (each CPU's copy is 8-byte aligned). */
export function decCounterValues(b: Buffer, cpus: number): { packets: bigint; bytes: bigint } {
  const stride = Math.ceil(LAYOUTS.weft_counter_value.size / 8) * 8;
  let packets = 0n;
  let bytes = 0n;
  for (let i = 0; i < cpus; i++) {
    packets += b.readBigUInt64LE(i * stride + off('weft_counter_value', 'packets'));
    bytes += b.readBigUInt64LE(i * stride + off('weft_counter_value', 'bytes'));
  }
  return { packets, bytes };
}

export function decEvent(b: Buffer): VerdictEvent {
  const f = (n: keyof (typeof LAYOUTS)['weft_event']['fields']) => off('weft_event', n);
  const t: FiveTuple = {
    proto: b.readUInt8(f('proto')),
    src: from16(b.subarray(f('src'), f('src') + 16)),
    dst: from16(b.subarray(f('dst'), f('dst') + 16)),
    sport: b.readUInt16LE(f('sport')),
    dport: b.readUInt16LE(f('dport')),
  };
  return {
    ...t,
    timeNs: b.readBigUInt64LE(f('time_ns')),
    endpointId: b.readUInt32LE(f('endpoint_id')),
    direction: b.readUInt8(f('direction')) === DIR.egress ? 'egress' : 'ingress',
    verdict: EV[b.readUInt8(f('verdict'))],
    ruleId: b.readUInt32LE(f('rule_id')),
    generation: Number(b.readBigUInt64LE(f('generation'))),
  };
}
