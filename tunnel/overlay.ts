// The overlay address plan: the hub is host index 1 of the IPv4 prefix and of the IPv6 ULA prefix;
// sites get 2, 3, ... Index n is the same host part in both families (10.99.0.7 pairs with
// fd00:99::7), so one number names a site's tunnel addresses and the plan stays readable. Pure: the
// hub's store says which indexes are taken. One plan for the hub (enrollment) and the tunnel tests.
import { formatIp, parseIp } from '../base/index.ts';
import { TunnelError } from './errors.ts';

interface Prefix {
  v6: boolean;
  base: bigint;
  bits: number;
  /** Host indexes available: 1 .. size-2 for IPv4 (no network/broadcast), 1 .. size-1 for IPv6. */
  lastIndex: bigint;
}

const bigToAddress = (n: bigint, v6: boolean): string => formatIp(v6 ? 6 : 4, n);

function parsePrefix(cidr: string, what: string): Prefix {
  const [addr, len, extra] = cidr.split('/');
  const bits = Number(len);
  // Embedded-IPv4 IPv6 forms are not used in overlay plans.
  const ip = addr.includes('.') && addr.includes(':') ? null : parseIp(addr);
  if (!ip) throw new TunnelError('TUNNEL_BAD_PREFIX', `${what} "${cidr}" is not an IP prefix`, 'write it as address/length, e.g. 10.99.0.0/24');
  const v6 = ip.family === 6;
  const width = v6 ? 128 : 32;
  if (extra !== undefined || len === undefined || !/^\d+$/.test(len) || bits > width - 2) {
    throw new TunnelError('TUNNEL_BAD_PREFIX', `${what} "${cidr}" has no usable prefix length`, `use a length up to /${width - 2}`);
  }
  const hostBits = BigInt(width - bits);
  const base = (ip.value >> hostBits) << hostBits;
  if (base !== ip.value) throw new TunnelError('TUNNEL_BAD_PREFIX', `${what} "${cidr}" has host bits set`, `did you mean ${bigToAddress(base, v6)}/${bits}?`);
  if (v6 && base >> 121n !== 0x7en)
    throw new TunnelError('TUNNEL_BAD_PREFIX', `${what} "${cidr}" is not a unique local (ULA) prefix`, 'use a prefix inside fc00::/7, e.g. fd00:99::/64');
  const size = 1n << hostBits;
  return { v6, base, bits, lastIndex: v6 ? size - 1n : size - 2n };
}

/** Largest site index: plenty, and small enough to be a SQLite integer and a JS number. */
const INDEX_CAP = 2n ** 31n;

export class OverlayPlan {
  private readonly v4: Prefix;
  private readonly v6: Prefix;
  /** Largest usable index (the smaller of the two spaces; the IPv4 broadcast address is skipped). */
  readonly maxIndex: number;

  constructor(v4Prefix: string, v6Prefix: string) {
    this.v4 = parsePrefix(v4Prefix, 'overlay IPv4 prefix');
    if (this.v4.v6) throw new TunnelError('TUNNEL_BAD_PREFIX', `overlay IPv4 prefix "${v4Prefix}" is an IPv6 prefix`, 'e.g. 10.99.0.0/16');
    this.v6 = parsePrefix(v6Prefix, 'overlay IPv6 prefix');
    if (!this.v6.v6) throw new TunnelError('TUNNEL_BAD_PREFIX', `overlay IPv6 prefix "${v6Prefix}" is an IPv4 prefix`, 'e.g. fd00:99::/64');
    const last = [this.v4.lastIndex, this.v6.lastIndex, INDEX_CAP].reduce((a, b) => (a < b ? a : b));
    this.maxIndex = Number(last);
  }

  /** The addresses of host index `index` in both families. */
  addresses(index: number): { v4: string; v6: string } {
    return { v4: bigToAddress(this.v4.base + BigInt(index), false), v6: bigToAddress(this.v6.base + BigInt(index), true) };
  }

  /** What a site's peer owns: its two addresses as host routes (/32, /128). */
  hostRoutes(index: number): string[] {
    const a = this.addresses(index);
    return [`${a.v4}/32`, `${a.v6}/128`];
  }

  /** The hub's interface addresses: index 1, with the overlay prefix lengths (it routes the whole overlay). */
  hubInterface(): string[] {
    const a = this.addresses(1);
    return [`${a.v4}/${this.v4.bits}`, `${a.v6}/${this.v6.bits}`];
  }

  hub(): { v4: string; v6: string } {
    return this.addresses(1);
  }

  /**
   * The next site index: the one after the highest in use (one indexed lookup, so enrolling the
   * 10 000th site costs what the first did), and only once the prefix is used up the lowest index a
   * revoked site freed (a revoked site's address is not handed to another while fresh ones remain).
   * `reserved` indexes (hub nodes' own addresses) are never a site's.
   */
  allocate(highest: number, used: () => Set<number>, reserved: ReadonlySet<number> = new Set()): number {
    for (let i = Math.max(2, highest + 1); i <= this.maxIndex; i++) if (!reserved.has(i)) return i;
    const taken = used();
    for (let i = 2; i <= this.maxIndex; i++) if (!taken.has(i) && !reserved.has(i)) return i;
    throw new TunnelError('TUNNEL_POOL_EXHAUSTED', `overlay prefix is full (${this.maxIndex - 1 - reserved.size} sites)`, 'configure a larger --overlay-v4');
  }

  /** Whether allocate() past `highest` finds a fresh index without the used set. */
  freshAfter(highest: number, reserved: ReadonlySet<number>): boolean {
    let inRange = 0;
    for (const r of reserved) if (r > highest && r <= this.maxIndex) inRange++;
    return this.maxIndex - Math.max(1, highest) > inRange;
  }
}

/** A peer owns exactly its addresses: 10.99.0.2/24 -> 10.99.0.2/32. */
export function hostRoute(cidr: string): string {
  const addr = cidr.split('/')[0];
  return `${addr}/${addr.includes(':') ? 128 : 32}`;
}
