// The overlay plan: sites take the index after the highest in use, freed indexes are reused only
// once the prefix is used up, and v4 and v6 share the host part. Bad prefixes say what to write.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { hostRoute, OverlayPlan } from './overlay.ts';

describe('OverlayPlan.allocate', () => {
  const plan = new OverlayPlan('10.77.0.0/29', 'fd00:77::/64'); // site indexes 2..6

  it.each([
    ['first site', 0, [], 2],
    ['after the highest', 3, [2, 3], 4],
    ['after the highest, over a freed hole', 5, [2, 5], 6],
    ['prefix used up: the lowest freed index', 6, [2, 4, 5, 6], 3],
  ])('%s', (_n, highest, used, want) => {
    expect(plan.allocate(highest, () => new Set(used))).toBe(want);
  });

  it('fails when every index is taken', () => {
    expect(() => plan.allocate(6, () => new Set([2, 3, 4, 5, 6]))).toThrow(
      expect.objectContaining({ code: 'TUNNEL_POOL_EXHAUSTED', message: 'overlay prefix is full (5 sites)' }),
    );
  });

  it("skips hub nodes' reserved indexes, and says when the fresh range is all reserved", () => {
    const nodes = new Set([5, 6]);
    expect(plan.allocate(3, () => new Set(), nodes)).toBe(4);
    expect(plan.freshAfter(3, nodes)).toBe(true);
    expect(plan.freshAfter(4, nodes)).toBe(false);
    expect(plan.allocate(4, () => new Set([2, 4]), nodes)).toBe(3);
    expect(() => plan.allocate(4, () => new Set([2, 3, 4]), nodes)).toThrow(expect.objectContaining({ message: 'overlay prefix is full (3 sites)' }));
  });

  it('never hands out a taken index while one is free', () => {
    const small = new OverlayPlan('10.99.0.0/26', 'fd00:99::/64'); // indexes 2..62
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 2, max: 62 }), { maxLength: 60 }), (used) => {
        const got = small.allocate(Math.max(0, ...used), () => new Set(used));
        expect(used).not.toContain(got);
        expect(got).toBeGreaterThanOrEqual(2);
        expect(got).toBeLessThanOrEqual(62);
      }),
    );
  });
});

describe('OverlayPlan addresses', () => {
  it('gives matching v4/v6 host parts, host routes, and the hub its prefix lengths', () => {
    const plan = new OverlayPlan('10.99.0.0/16', 'fd00:99::/64');
    expect(plan.addresses(4)).toEqual({ v4: '10.99.0.4', v6: 'fd00:99::4' });
    expect(plan.addresses(258)).toEqual({ v4: '10.99.1.2', v6: 'fd00:99::102' });
    expect(plan.hostRoutes(2)).toEqual(['10.99.0.2/32', 'fd00:99::2/128']);
    expect(plan.hub()).toEqual({ v4: '10.99.0.1', v6: 'fd00:99::1' });
    expect(plan.hubInterface()).toEqual(['10.99.0.1/16', 'fd00:99::1/64']);
  });

  it.each([
    ['10.1.2.0/30', 'fd00::/64', 2], // a /30 holds .1 (hub) and .2 (one site); .3 is broadcast
    ['10.0.0.0/8', 'fd00::/120', 255], // the smaller space bounds it
    ['10.0.0.0/8', 'fd00::/64', 2 ** 24 - 2],
  ])('%s + %s: largest index %d', (v4, v6, max) => expect(new OverlayPlan(v4, v6).maxIndex).toBe(max));

  it.each([
    ['10.99.0.1/24', 'fd00:99::/64', 'has host bits set', 'did you mean 10.99.0.0/24?'],
    ['10.99.0.0', 'fd00:99::/64', 'has no usable prefix length', 'use a length up to /30'],
    ['10.99.0.0/31', 'fd00:99::/64', 'has no usable prefix length', 'use a length up to /30'],
    ['ten/8', 'fd00:99::/64', 'is not an IP prefix', 'write it as address/length, e.g. 10.99.0.0/24'],
    ['10.99.0.0/24', '2001:db8::/64', 'is not a unique local (ULA) prefix', 'use a prefix inside fc00::/7, e.g. fd00:99::/64'],
    ['fd00:98::/64', 'fd00:99::/64', 'is an IPv6 prefix', 'e.g. 10.99.0.0/16'],
    ['10.99.0.0/24', '10.98.0.0/24', 'is an IPv4 prefix', 'e.g. fd00:99::/64'],
  ])('rejects %s + %s', (v4, v6, message, hint) => {
    expect(() => new OverlayPlan(v4, v6)).toThrow(expect.objectContaining({ code: 'TUNNEL_BAD_PREFIX', message: expect.stringContaining(message), hint }));
  });

  it('host routes (IPv6 formatting is base/ip.test.ts)', () => {
    expect(hostRoute('10.99.0.1/24')).toBe('10.99.0.1/32');
    expect(hostRoute('fd00:99::1/64')).toBe('fd00:99::1/128');
  });
});
