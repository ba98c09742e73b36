// IP address and prefix parsing into the byte order the kernel maps use (network order).
import { isIPv4, isIPv6 } from 'node:net';
import { DatapathError } from './errors.ts';

export interface Addr {
  family: 4 | 6;
  /** 4 or 16 bytes, network order. */
  bytes: Uint8Array;
}

export interface Prefix extends Addr {
  len: number;
}

function v6Bytes(s: string): Uint8Array {
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  let tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two 16-bit groups.
  if (s.includes('.', lastColon)) {
    const v4 = v4Bytes(s.slice(lastColon + 1));
    tail = [(v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]];
    s = s.slice(0, lastColon + 1) + '0';
  }
  const [head, rest] = s.split('::');
  const h = head ? head.split(':').map((g) => parseInt(g, 16)) : [];
  const r = rest !== undefined && rest !== '' ? rest.split(':').map((g) => parseInt(g, 16)) : [];
  let groups = rest === undefined ? h : [...h, ...new Array(8 - h.length - r.length).fill(0), ...r];
  if (tail.length) groups = [...groups.slice(0, 6), ...tail];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  return out;
}

function v4Bytes(s: string): Uint8Array {
  return Uint8Array.from(s.split('.').map(Number));
}

export function parseAddr(s: string): Addr {
  if (isIPv4(s)) return { family: 4, bytes: v4Bytes(s) };
  if (isIPv6(s)) return { family: 6, bytes: v6Bytes(s) };
  throw new DatapathError('DATAPATH_INVALID_TABLES', `not an IP address: ${JSON.stringify(s)}`, 'use a dotted IPv4 or a colon-separated IPv6 address');
}

export function parsePrefix(s: string): Prefix {
  const slash = s.indexOf('/');
  const addr = parseAddr(slash < 0 ? s : s.slice(0, slash));
  const max = addr.family === 4 ? 32 : 128;
  const len = slash < 0 ? max : Number(s.slice(slash + 1));
  if (!Number.isInteger(len) || len < 0 || len > max) {
    throw new DatapathError('DATAPATH_INVALID_TABLES', `bad prefix length in ${JSON.stringify(s)}`, `the length must be 0..${max}`);
  }
  return { ...addr, len };
}

/** The address with every bit past `len` cleared, as a lowercase hex string (a map key). */
export function maskedHex(bytes: Uint8Array, len: number): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, len - i * 8));
    const b = bytes[i] & ((0xff << (8 - keep)) & 0xff);
    out += b.toString(16).padStart(2, '0');
  }
  return out;
}

export function formatAddr(family: 4 | 6, bytes: Uint8Array): string {
  if (family === 4) return Array.from(bytes.subarray(0, 4)).join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  // Compress the longest run of zero groups, as RFC 5952 asks.
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
