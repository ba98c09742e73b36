import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { allocateOverlay, hostRoute } from './overlay.ts';

const pool = { ipv4Prefix: '10.99.0.0/24', ipv6Prefix: 'fd00:99::/64' };
const hub = ['10.99.0.1/24', 'fd00:99::1/64'];

describe('overlay allocation', () => {
  it.each([
    ['first site after the hub', hub, ['10.99.0.2/32', 'fd00:99::2/128']],
    ['fills a gap', [...hub, '10.99.0.2/32', 'fd00:99::2/128', '10.99.0.4/32', 'fd00:99::4/128'], ['10.99.0.3/32', 'fd00:99::3/128']],
    ['keeps v4 and v6 on the same index', [...hub, '10.99.0.2/32', 'fd00:99::3/128'], ['10.99.0.4/32', 'fd00:99::4/128']],
    ['ignores addresses outside the pool', [...hub, '10.98.0.2/32', 'fd00:98::2/128'], ['10.99.0.2/32', 'fd00:99::2/128']],
  ])('%s', (_n, taken, want) => expect(allocateOverlay(pool, taken)).toEqual(want));

  it('works without IPv6 and skips network and broadcast', () => {
    expect(allocateOverlay({ ipv4Prefix: '10.1.2.0/30' }, [])).toEqual(['10.1.2.1/32']);
    expect(allocateOverlay({ ipv4Prefix: '10.1.2.0/30' }, ['10.1.2.1'])).toEqual(['10.1.2.2/32']);
    expect(() => allocateOverlay({ ipv4Prefix: '10.1.2.0/30' }, ['10.1.2.1', '10.1.2.2'])).toThrow(expect.objectContaining({ code: 'TUNNEL_POOL_EXHAUSTED' }));
  });

  it.each([
    [{ ipv4Prefix: '10.99.0.1/24' }, 'has host bits set', 'did you mean 10.99.0.0/24?'],
    [{ ipv4Prefix: '10.99.0.0' }, 'has no usable prefix length', 'use a length up to /30'],
    [{ ipv4Prefix: '10.99.0.0/31' }, 'has no usable prefix length', 'use a length up to /30'],
    [{ ipv4Prefix: 'ten/8' }, 'is not an IP prefix', 'write it as address/length, e.g. 10.99.0.0/24'],
    [{ ipv4Prefix: '10.99.0.0/24', ipv6Prefix: '2001:db8::/64' }, 'is not a unique local (ULA) prefix', 'use a prefix inside fc00::/7, e.g. fd00:99::/64'],
  ])('rejects %j', (p, message, hint) => {
    expect(() => allocateOverlay(p, [])).toThrow(expect.objectContaining({ code: 'TUNNEL_BAD_PREFIX', message: expect.stringContaining(message), hint }));
  });

  it('never hands out a taken address, and allocations are distinct', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 60 }), { maxLength: 40 }), (idx) => {
        const taken = idx.map((i) => `10.99.0.${i}/32`);
        const got = allocateOverlay({ ipv4Prefix: '10.99.0.0/26' }, taken)[0];
        expect(taken).not.toContain(got);
        const n = Number(got.split('.')[3].split('/')[0]);
        for (let i = 1; i < n; i++) expect(idx).toContain(i);
      }),
    );
  });

  it('host routes (IPv6 formatting is base/ip.test.ts)', () => {
    expect(hostRoute('10.99.0.1/24')).toBe('10.99.0.1/32');
    expect(hostRoute('fd00:99::1/64')).toBe('fd00:99::1/128');
  });
});
