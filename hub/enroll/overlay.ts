// Overlay addresses: the hub is index 1 of the IPv4 prefix and of the IPv6 ULA prefix; sites get 2, 3, ...
// Index n maps to the same host part in both families, so one number names a site's tunnel addresses.
import { isIPv4, isIPv6 } from 'node:net';

export class OverlayError extends Error {
  override readonly name = 'OverlayError';
  constructor(
    readonly code: 'OVERLAY_BAD_PREFIX' | 'OVERLAY_EXHAUSTED',
    message: string,
  ) {
    super(message);
  }
}

function v4ToInt(a: string): number {
  return a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}
function intToV4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}
function v6ToBig(a: string): bigint {
  const [head, tail = ''] = a.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = a.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return groups.reduce((n, g) => (n << 16n) + BigInt(parseInt(g || '0', 16)), 0n);
}
function bigToV6(n: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => ((n >> BigInt(16 * (7 - i))) & 0xffffn).toString(16));
  return groups
    .join(':')
    .replace(/(^|:)0(:0)+(:|$)/, '::')
    .replace(/:::+/, '::');
}

export class OverlayPlan {
  private readonly v4Base: number;
  private readonly v6Base: bigint;
  /** Largest usable index (the IPv4 prefix is the smaller space; its broadcast address is skipped). */
  readonly maxIndex: number;

  constructor(v4Prefix: string, v6Prefix: string) {
    const [a4, l4] = v4Prefix.split('/');
    const [a6, l6] = v6Prefix.split('/');
    const len4 = Number(l4);
    const len6 = Number(l6);
    if (!isIPv4(a4) || !(len4 >= 8 && len4 <= 30)) throw new OverlayError('OVERLAY_BAD_PREFIX', `overlay IPv4 prefix ${v4Prefix}: want a.b.c.d/8..30`);
    if (!isIPv6(a6) || !(len6 >= 48 && len6 <= 120))
      throw new OverlayError('OVERLAY_BAD_PREFIX', `overlay IPv6 prefix ${v6Prefix}: want a ULA such as fd00:99::/64`);
    const size4 = 2 ** (32 - len4);
    this.v4Base = v4ToInt(a4) - (v4ToInt(a4) % size4);
    const mask6 = (1n << BigInt(128 - len6)) - 1n;
    this.v6Base = v6ToBig(a6) & ~mask6;
    this.maxIndex = Math.min(size4 - 2, Number(mask6 > 2n ** 31n ? 2n ** 31n : mask6));
  }

  addresses(index: number): { v4: string; v6: string } {
    return { v4: intToV4(this.v4Base + index), v6: bigToV6(this.v6Base + BigInt(index)) };
  }

  hub(): { v4: string; v6: string } {
    return this.addresses(1);
  }

  /**
   * The next site index: the one after the highest in use (one indexed lookup, so enrolling the
   * 10 000th site costs what the first did), and only once the prefix is used up the lowest index a
   * revoked site freed (a revoked site's address is not handed to another while fresh ones remain).
   */
  allocate(highest: number, used: () => Set<number>): number {
    if (highest < this.maxIndex) return Math.max(2, highest + 1);
    const taken = used();
    for (let i = 2; i <= this.maxIndex; i++) if (!taken.has(i)) return i;
    throw new OverlayError('OVERLAY_EXHAUSTED', `overlay prefix is full (${this.maxIndex - 1} sites): configure a larger --overlay-v4`);
  }
}
