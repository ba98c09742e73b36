import { describe, expect, it } from 'vitest';
import { Lru } from './lru.ts';
import { ResponseRateLimiter } from './rrl.ts';

describe('ResponseRateLimiter', () => {
  const cfg = { responsesPerSecond: 3, slip: 2, exempt: ['127.0.0.0/8', '::1/128'] };

  it('never limits an exempt source, however often it asks (the benchmark runs from loopback)', () => {
    const rrl = new ResponseRateLimiter(cfg);
    const verdicts = new Set(Array.from({ length: 10_000 }, () => rrl.check('127.0.0.1', 'pos', 0)));
    expect([...verdicts]).toEqual(['send']);
    expect(rrl.check('::1', 'pos', 0)).toBe('send');
  });

  it('counts a /24 and a name together: past the budget it slips every 2nd answer and drops the rest', () => {
    const rrl = new ResponseRateLimiter(cfg);
    const a = [0, 1, 2].map(() => rrl.check('198.51.100.7', 'pos', 1000));
    // Another address of the same /24 shares the budget (its network was remembered for the first).
    const b = [0, 1, 2, 3].map(() => rrl.check('198.51.100.8', 'pos', 1000));
    expect(a).toEqual(['send', 'send', 'send']);
    expect(b).toEqual(['drop', 'slip', 'drop', 'slip']);
    // Another name, another network: their own budgets.
    expect(rrl.check('198.51.100.7', 'other', 1000)).toBe('send');
    expect(rrl.check('198.51.101.7', 'pos', 1000)).toBe('send');
    // A second later the bucket is full again.
    expect(rrl.check('198.51.100.7', 'pos', 2000)).toBe('send');
  });

  it('answers a source it cannot parse: there is no network to count it in', () => {
    const rrl = new ResponseRateLimiter(cfg);
    expect(rrl.check('not an address', 'pos', 0)).toBe('send');
  });
});

describe('Lru', () => {
  it('evicts the least recently used, also when the newest key is asked for again and again', () => {
    const lru = new Lru<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    expect(lru.get('a')).toBe(1);
    expect(lru.get('a')).toBe(1);
    lru.set('c', 3);
    expect([lru.get('a'), lru.get('b'), lru.get('c')]).toEqual([1, undefined, 3]);
    lru.delete('c');
    lru.set('d', 4);
    lru.set('e', 5);
    expect([lru.get('a'), lru.get('d'), lru.get('e')]).toEqual([undefined, 4, 5]);
  });
});
