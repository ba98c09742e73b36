// Overlay addresses: sites take the index after the highest in use; freed indexes are reused only
// once the prefix is used up.
import { describe, expect, it } from 'vitest';
import { OverlayError, OverlayPlan } from './overlay.ts';

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

  it('fails when every index is taken, and gives matching v4/v6 host parts', () => {
    expect(() => plan.allocate(6, () => new Set([2, 3, 4, 5, 6]))).toThrow(OverlayError);
    expect(plan.addresses(4)).toEqual({ v4: '10.77.0.4', v6: 'fd00:77::4' });
  });
});
