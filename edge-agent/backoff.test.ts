import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.ts';

describe('backoffDelay', () => {
  it.each([
    [1, 0, 250],
    [1, 0.999999, 500],
    [3, 0, 1000],
    [3, 0.5, 1500],
    [20, 0, 15_000],
    [20, 0.999999, 30_000],
  ])('attempt %i with random %d -> %i ms', (attempt, r, want) => {
    expect(backoffDelay(attempt, { minMs: 500, maxMs: 30_000, random: () => r })).toBe(want);
  });
});
