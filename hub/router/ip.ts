// IP addresses as bytes: the router compares client addresses against CIDR maps bit by bit and
// writes them into EDNS Client Subnet options, so it needs the raw form, not strings.
import { isIPv4, isIPv6 } from 'node:net';

export interface IpBytes {
  family: 4 | 6;
  bytes: Uint8Array;
}

function parseV4(s: string): Uint8Array {
  const out = new Uint8Array(4);
  const parts = s.split('.');
  for (let i = 0; i < 4; i++) out[i] = Number(parts[i]);
  return out;
}

function parseV6(s: string): Uint8Array {
  const out = new Uint8Array(16);
  let text = s;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  // An embedded IPv4 tail (::ffff:1.2.3.4) fills the last 4 bytes.
  let tail: Uint8Array | null = null;
  const lastColon = text.lastIndexOf(':');
  if (text.indexOf('.', lastColon) >= 0) {
    tail = parseV4(text.slice(lastColon + 1));
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head, rest] = text.split('::');
  const groups = (part: string | undefined) => (part ? part.split(':').filter((g) => g !== '') : []);
  const hi = groups(head);
  const lo = rest === undefined ? [] : groups(rest);
  const all = rest === undefined ? hi : [...hi, ...Array<string>(8 - hi.length - lo.length).fill('0'), ...lo];
  for (let i = 0; i < 8; i++) {
    const v = parseInt(all[i] ?? '0', 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  }
  if (tail) out.set(tail, 12);
  return out;
}

const MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

/** Parses an address; IPv4-mapped IPv6 (what a dual-stack socket reports) becomes IPv4. Null if invalid. */
export function parseIp(s: string): IpBytes | null {
  if (isIPv4(s)) return { family: 4, bytes: parseV4(s) };
  if (!isIPv6(s)) return null;
  const b = parseV6(s);
  if (MAPPED_PREFIX.every((v, i) => b[i] === v)) return { family: 4, bytes: b.slice(12) };
  return { family: 6, bytes: b };
}

export function formatIp(ip: IpBytes): string {
  if (ip.family === 4) return Array.from(ip.bytes).join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((ip.bytes[i] << 8) | ip.bytes[i + 1]).toString(16));
  // Compress the longest run of zero groups, as RFC 5952 asks.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

export function bitAt(bytes: Uint8Array, i: number): number {
  return (bytes[i >> 3] >> (7 - (i & 7))) & 1;
}

/** Zeroes every bit past `prefix`: the network part only. */
export function maskIp(ip: IpBytes, prefix: number): IpBytes {
  const bytes = new Uint8Array(ip.bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    bytes[i] = ip.bytes[i] & ((0xff << (8 - keep)) & 0xff);
  }
  return { family: ip.family, bytes };
}

export interface Cidr extends IpBytes {
  prefix: number;
}

/** Parses `a.b.c.d/n` or `x::/n` (a bare address is a host route). Null if invalid. */
export function parseCidr(s: string): Cidr | null {
  const slash = s.indexOf('/');
  const ip = parseIp(slash >= 0 ? s.slice(0, slash) : s);
  if (!ip) return null;
  const max = ip.family === 4 ? 32 : 128;
  const prefixText = slash >= 0 ? s.slice(slash + 1) : String(max);
  if (!/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  if (prefix > max) return null;
  return { ...maskIp(ip, prefix), prefix };
}
