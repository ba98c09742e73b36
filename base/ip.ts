// IPv4 and IPv6 addresses, prefixes and ranges: one parser and one RFC 5952 formatter for every part.
// Two views of the same address: a bigint (range arithmetic, the policy compiler's ipcache) and
// network-order bytes (kernel map keys, the router's bit-by-bit CIDR trie, EDNS client subnet).
// Pure: no I/O, no node:net; the parser is as strict as node:net's isIP (no octal-looking octets,
// no zone unless asked for) and a table test holds the two in step.

export type Family = 4 | 6;

export interface Ip {
  family: Family;
  value: bigint;
}

export interface Cidr {
  family: Family;
  /** First address of the prefix. */
  base: bigint;
  len: number;
}

/** An address as the kernel and the wire hold it: 4 or 16 bytes, network order. */
export interface IpBytes {
  family: Family;
  bytes: Uint8Array;
}

export interface CidrBytes extends IpBytes {
  len: number;
}

export interface ParseOptions {
  /** Accept and drop an IPv6 zone (`fe80::1%eth0`), as a socket may report it. Default false. */
  zone?: boolean;
  /** Read an IPv4-mapped IPv6 address (::ffff:a.b.c.d) as the IPv4 it stands for. Default false. */
  unmapV4?: boolean;
}

/** An address as a dual-stack socket reports it: a zone may follow, IPv4 may come IPv4-mapped. */
export const SOCKET_ADDRESS: ParseOptions = { zone: true, unmapV4: true };

export function bitsOf(family: Family): number {
  return family === 4 ? 32 : 128;
}

function parseV4(s: string): bigint | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  let v = 0n;
  for (let i = 1; i <= 4; i++) {
    if (m[i].length > 1 && m[i][0] === '0') return null; // no octal-looking octets
    const o = Number(m[i]);
    if (o > 255) return null;
    v = (v << 8n) | BigInt(o);
  }
  return v;
}

function groupsOf(h: string): bigint[] | null {
  if (h === '') return [];
  const out: bigint[] = [];
  for (const g of h.split(':')) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    out.push(BigInt(`0x${g}`));
  }
  return out;
}

function parseV6(s: string): bigint | null {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || s.length < 2) return null;
  let text = s;
  // An embedded IPv4 tail (::ffff:1.2.3.4) stands for the last two groups.
  if (text.includes('.')) {
    const at = text.lastIndexOf(':');
    const v4 = parseV4(text.slice(at + 1));
    if (v4 === null) return null;
    text = `${text.slice(0, at + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = groupsOf(halves[0]);
  const rest = halves.length === 2 ? groupsOf(halves[1]) : [];
  if (!head || !rest) return null;
  let groups = [...head, ...rest];
  if (halves.length === 2) {
    const fill = 8 - groups.length;
    if (fill < 1) return null;
    groups = [...head, ...Array<bigint>(fill).fill(0n), ...rest];
  }
  if (groups.length !== 8) return null;
  return groups.reduce((v, g) => (v << 16n) | g, 0n);
}

/** Parses a dotted IPv4 or an IPv6 address; null if it is not one. */
export function parseIp(s: string, opts: ParseOptions = {}): Ip | null {
  if (typeof s !== 'string') return null;
  if (s.includes(':')) {
    let text = s;
    const zone = text.indexOf('%');
    if (zone >= 0) {
      if (!opts.zone || zone === text.length - 1) return null;
      text = text.slice(0, zone);
    }
    const v = parseV6(text);
    if (v === null) return null;
    return opts.unmapV4 ? unmapV4({ family: 6, value: v }) : { family: 6, value: v };
  }
  const v = parseV4(s);
  return v === null ? null : { family: 4, value: v };
}

function maskOf(family: Family, len: number): bigint {
  const bits = BigInt(bitsOf(family));
  const all = (1n << bits) - 1n;
  return all ^ ((1n << (bits - BigInt(len))) - 1n);
}

/**
 * Parses `addr/len` and clears the host bits (Kubernetes accepts them set; we mask them).
 * With `bare`, an address without `/len` is a host prefix (/32, /128).
 */
export function parseCidr(s: string, opts: ParseOptions & { bare?: boolean } = {}): Cidr | null {
  if (typeof s !== 'string') return null;
  const slash = s.indexOf('/');
  if (slash < 0 && !opts.bare) return null;
  const ip = parseIp(slash < 0 ? s : s.slice(0, slash), opts);
  if (!ip) return null;
  const lenText = slash < 0 ? String(bitsOf(ip.family)) : s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText)) return null;
  const len = Number(lenText);
  if (len > bitsOf(ip.family)) return null;
  return { family: ip.family, base: ip.value & maskOf(ip.family, len), len };
}

export function cidrLast(c: Cidr): bigint {
  return c.base + (1n << BigInt(bitsOf(c.family) - c.len)) - 1n;
}

export function cidrContains(c: Cidr, ip: Ip): boolean {
  return c.family === ip.family && ip.value >= c.base && ip.value <= cidrLast(c);
}

/**
 * RFC 5952 section 4: lowercase hex, no leading zeros, the longest run of two or more zero groups
 * as `::` (the first one on a tie). IPv4-mapped addresses stay in hex (::ffff:102:304), as the
 * WHATWG URL serializer writes them; section 5's mixed notation is a recommendation we do not take.
 */
export function formatIp(family: Family, v: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join('.');
  const groups: string[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) groups.push(((v >> s) & 0xffffn).toString(16));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.family, c.base)}/${c.len}`;
}

/** The fewest prefixes that cover exactly [lo, hi]. */
export function rangeToCidrs(family: Family, lo: bigint, hi: bigint): Cidr[] {
  const bits = bitsOf(family);
  const out: Cidr[] = [];
  let cur = lo;
  while (cur <= hi) {
    let size = 0;
    while (size < bits) {
      const next = size + 1;
      const block = 1n << BigInt(next);
      if (cur % block !== 0n || cur + block - 1n > hi) break;
      size = next;
    }
    out.push({ family, base: cur, len: bits - size });
    cur += 1n << BigInt(size);
  }
  return out;
}

const V4_MAPPED = 0xffffn << 32n;

/** An IPv4-mapped IPv6 address (::ffff:a.b.c.d, what a dual-stack socket reports) as the IPv4 it stands for. */
export function unmapV4(ip: Ip): Ip {
  return ip.family === 6 && ip.value >> 32n === 0xffffn ? { family: 4, value: ip.value ^ V4_MAPPED } : ip;
}

// ---- the byte view -------------------------------------------------------------------------------

export function toBytes(family: Family, value: bigint): Uint8Array {
  const out = new Uint8Array(bitsOf(family) / 8);
  let v = value;
  for (let i = out.length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

export function fromBytes(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

export function parseIpBytes(s: string, opts: ParseOptions = {}): IpBytes | null {
  const ip = parseIp(s, opts);
  return ip && { family: ip.family, bytes: toBytes(ip.family, ip.value) };
}

/** Like parseCidr, but keeps the address as written (host bits too) in bytes; the caller masks what it keys. */
export function parsePrefixBytes(s: string, opts: ParseOptions & { bare?: boolean } = {}): CidrBytes | null {
  const slash = s.indexOf('/');
  const ip = parseIpBytes(slash < 0 ? s : s.slice(0, slash), opts);
  const c = parseCidr(s, opts);
  return ip && c && { ...ip, len: c.len };
}

/** parseCidr in bytes: the network part, host bits cleared. */
export function parseCidrBytes(s: string, opts: ParseOptions & { bare?: boolean } = {}): CidrBytes | null {
  const c = parseCidr(s, opts);
  return c && { family: c.family, bytes: toBytes(c.family, c.base), len: c.len };
}

export function formatIpBytes(ip: IpBytes): string {
  return formatIp(ip.family, fromBytes(ip.bytes));
}

/** Bit `i` (0 = the most significant bit of the first byte). */
export function bitAt(bytes: Uint8Array, i: number): number {
  return (bytes[i >> 3] >> (7 - (i & 7))) & 1;
}

/** A copy with every bit past `len` cleared: the network part only. */
export function maskBytes(bytes: Uint8Array, len: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, len - i * 8));
    out[i] = bytes[i] & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}
