// Overlay address allocation for the hub: each site gets the lowest free host index of the
// IPv4 prefix and, when configured, the same index in an IPv6 ULA prefix (10.99.0.7 pairs with
// fd00:99::7, which keeps the plan readable). Pure: the taken addresses come in as an argument.
import { formatIp, parseIp } from '../base/index.ts';
import { TunnelError } from './errors.ts';

export interface OverlayPool {
  /** e.g. 10.99.0.0/24 */
  ipv4Prefix: string;
  /** e.g. fd00:99::/64; must be a ULA (fc00::/7). */
  ipv6Prefix?: string;
}

interface Prefix {
  v6: boolean;
  base: bigint;
  bits: number;
  /** Host indexes available: 1 .. size-2 for IPv4 (no network/broadcast), 1 .. size-1 for IPv6. */
  lastIndex: bigint;
}

/** Parses an address to a number; embedded-IPv4 IPv6 forms are not used in overlay plans. */
function addressToBig(addr: string): { v6: boolean; n: bigint } {
  const ip = addr.includes('.') && addr.includes(':') ? null : parseIp(addr);
  if (!ip) throw new TunnelError('TUNNEL_BAD_PREFIX', `"${addr}" is not an IP address`);
  return { v6: ip.family === 6, n: ip.value };
}

const bigToAddress = (n: bigint, v6: boolean): string => formatIp(v6 ? 6 : 4, n);

function parsePrefix(cidr: string, what: string): Prefix {
  const [addr, len, extra] = cidr.split('/');
  const bits = Number(len);
  let parsed: { v6: boolean; n: bigint };
  try {
    parsed = addressToBig(addr);
  } catch {
    throw new TunnelError('TUNNEL_BAD_PREFIX', `${what} "${cidr}" is not an IP prefix`, 'write it as address/length, e.g. 10.99.0.0/24');
  }
  const width = parsed.v6 ? 128 : 32;
  if (extra !== undefined || len === undefined || !/^\d+$/.test(len) || bits > width - 2) {
    throw new TunnelError('TUNNEL_BAD_PREFIX', `${what} "${cidr}" has no usable prefix length`, `use a length up to /${width - 2}`);
  }
  const hostBits = BigInt(width - bits);
  const base = (parsed.n >> hostBits) << hostBits;
  if (base !== parsed.n)
    throw new TunnelError('TUNNEL_BAD_PREFIX', `${what} "${cidr}" has host bits set`, `did you mean ${bigToAddress(base, parsed.v6)}/${bits}?`);
  if (parsed.v6 && base >> 121n !== 0x7en)
    throw new TunnelError('TUNNEL_BAD_PREFIX', `${what} "${cidr}" is not a unique local (ULA) prefix`, 'use a prefix inside fc00::/7, e.g. fd00:99::/64');
  const size = 1n << hostBits;
  return { v6: parsed.v6, base, bits, lastIndex: parsed.v6 ? size - 1n : size - 2n };
}

/** Host indexes of `taken` that fall in `p` (addresses may carry a /length, which is ignored). */
function takenIndexes(p: Prefix, taken: string[]): Set<bigint> {
  const out = new Set<bigint>();
  for (const t of taken) {
    const a = addressToBig(t.split('/')[0]);
    if (a.v6 === p.v6 && a.n - p.base >= 0n && a.n - p.base <= p.lastIndex + 1n) out.add(a.n - p.base);
  }
  return out;
}

/**
 * The next free overlay addresses (as host routes: /32 and /128) given every address already
 * in use, the hub's own included.
 */
export function allocateOverlay(pool: OverlayPool, taken: string[]): string[] {
  const v4 = parsePrefix(pool.ipv4Prefix, 'ipv4Prefix');
  if (v4.v6) throw new TunnelError('TUNNEL_BAD_PREFIX', `ipv4Prefix "${pool.ipv4Prefix}" is an IPv6 prefix`);
  const v6 = pool.ipv6Prefix === undefined ? undefined : parsePrefix(pool.ipv6Prefix, 'ipv6Prefix');
  if (v6 && !v6.v6) throw new TunnelError('TUNNEL_BAD_PREFIX', `ipv6Prefix "${pool.ipv6Prefix}" is an IPv4 prefix`);
  const used4 = takenIndexes(v4, taken);
  const used6 = v6 ? takenIndexes(v6, taken) : new Set<bigint>();
  const last = v6 && v6.lastIndex < v4.lastIndex ? v6.lastIndex : v4.lastIndex;
  // At most |taken| indexes are skipped, so this loop is short even for a /64.
  for (let i = 1n; i <= last; i++) {
    if (used4.has(i) || used6.has(i)) continue;
    const out = [`${bigToAddress(v4.base + i, false)}/32`];
    if (v6) out.push(`${bigToAddress(v6.base + i, true)}/128`);
    return out;
  }
  throw new TunnelError('TUNNEL_POOL_EXHAUSTED', `overlay prefix ${pool.ipv4Prefix} has no free address`, 'configure a larger overlay prefix');
}

/** A peer owns exactly its addresses: 10.99.0.2/24 -> 10.99.0.2/32. */
export function hostRoute(cidr: string): string {
  const addr = cidr.split('/')[0];
  return `${addr}/${addr.includes(':') ? 128 : 32}`;
}
