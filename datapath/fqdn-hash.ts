// The hash that names a domainNames pattern in the kernel (bpf/lib/dns.h computes the same for the
// question of every DNS answer): over the name's wire bytes b_0..b_{n-1} (each label's length
// octet, then its bytes lowercased; no root octet), H = sum b_i * B^i mod 2^64. B is odd, so it has
// an inverse mod 2^64, which lets the kernel hash every suffix of a name in one forward pass. A
// wildcard "*.a.b" is H("a.b") xor WILDCARD, so it never equals the exact pattern "a.b".
// B is random per node (kept in the pinned config word): names are chosen by whoever runs a DNS
// zone, and a polynomial hash with a known multiplier can be aimed at (lattice reduction finds
// short colliding names); with an unknown one, the known attacks need names longer than DNS allows.
import { randomBytes } from 'node:crypto';

const MASK = (1n << 64n) - 1n;
export const FQDN_WILDCARD = 0x9e3779b97f4a7c15n;

/** Wire bytes of a name (trailing dot ignored, lowercased). */
export function nameWire(name: string): number[] {
  const out: number[] = [];
  const labels = name.replace(/\.$/, '').toLowerCase().split('.');
  for (const l of labels) {
    out.push(l.length);
    for (let i = 0; i < l.length; i++) out.push(l.charCodeAt(i) & 0xff);
  }
  return out;
}

export function nameHash(name: string, base: bigint): bigint {
  let h = 0n;
  let pow = 1n;
  for (const b of nameWire(name)) {
    h = (h + BigInt(b) * pow) & MASK;
    pow = (pow * base) & MASK;
  }
  return h;
}

/** A pattern's kernel key: an exact name, or "*." and a suffix. */
export function patternHash(pattern: string, base: bigint): bigint {
  return pattern.startsWith('*.') ? nameHash(pattern.slice(2), base) ^ FQDN_WILDCARD : nameHash(pattern, base);
}

/** The inverse of an odd number mod 2^64 (Newton: each step doubles the correct bits). */
export function inverseOdd(b: bigint): bigint {
  let x = b;
  for (let i = 0; i < 6; i++) x = (x * (2n - ((b * x) & MASK))) & MASK;
  return x;
}

export function randomHashBase(): bigint {
  return randomBytes(8).readBigUInt64LE() | 1n;
}
