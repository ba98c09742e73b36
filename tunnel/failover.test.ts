import { describe, expect, it } from 'vitest';
import { initialFailover, stepFailover } from './failover.ts';

const order = ['a', 'b', 'c'];
const all = (a: boolean, b: boolean, c: boolean) => ({ a, b, c });

describe('stepFailover', () => {
  it('stays while the active node answers, whatever the others do', () => {
    const s = stepFailover(initialFailover('a'), all(true, false, false), order, 2);
    expect(s.move).toBeUndefined();
    expect(s.state).toEqual({ active: 'a', misses: { a: 0, b: 1, c: 1 } });
  });

  it('moves after missesToMove misses in a row, to the next node after the active one that answered', () => {
    const one = stepFailover(initialFailover('b'), all(true, false, true), order, 2);
    expect(one.move).toBeUndefined();
    const two = stepFailover(one.state, all(true, false, true), order, 2);
    expect(two.move).toEqual({ from: 'b', to: 'c' });
    expect(two.state.active).toBe('c');
  });

  it('wraps around the order and skips nodes that missed their last probe', () => {
    let s = initialFailover('c');
    s = stepFailover(s, all(true, false, false), order, 1).state;
    expect(s.active).toBe('a');
  });

  it('keeps the address where it is when no other node answers, and moves once one does', () => {
    let s = stepFailover(initialFailover('a'), all(false, false, false), order, 1).state;
    s = stepFailover(s, all(false, false, false), order, 1).state;
    expect(s.active).toBe('a');
    const back = stepFailover(s, all(false, true, false), order, 1);
    expect(back.move).toEqual({ from: 'a', to: 'b' });
  });

  it('a recovered node does not take the address back', () => {
    const moved = stepFailover(stepFailover(initialFailover('a'), all(false, true, true), order, 1).state, all(true, true, true), order, 1);
    expect(moved.state.active).toBe('b');
    expect(moved.move).toBeUndefined();
  });
});
