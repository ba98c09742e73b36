import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore, type OutboxLimits, type StoreEvent } from './index.ts';
import { manualClock, tempDirs } from './testing/tmp.ts';

const tmp = tempDirs('store-outbox');
afterAll(() => tmp.cleanup());

function open(limits: Partial<OutboxLimits>, events: StoreEvent[] = [], path = join(tmp.make(), 'agent.db')) {
  const clock = manualClock();
  return { store: openStore(path, { clock: clock.now, outbox: limits, onEvent: (e) => events.push(e) }), clock, path };
}

const ACK = 'weft/v1/site/s1/ack';
const EV = 'weft/v1/site/s1/events';

describe('outbox', () => {
  it('appends, peeks in seq order, acks up to a seq; seqs are never reused, also across restarts', () => {
    const { store, clock, path } = open({});
    const seqs = [1, 2, 3, 4].map((i) => {
      clock.advance(1);
      return store.outbox.append(EV, `p${i}`, i % 2 ? 'low' : 'high').seq;
    });
    expect(seqs).toEqual([1, 2, 3, 4]);
    expect(store.outbox.peek(2).map((r) => [r.seq, r.payload.toString(), r.priority])).toEqual([
      [1, 'p1', 'low'],
      [2, 'p2', 'high'],
    ]);
    expect(store.outbox.ack(2)).toBe(2);
    expect(store.outbox.depth()).toBe(2);
    expect(store.outbox.bytes()).toBe(2 * (EV.length + 2));
    expect(store.outbox.ack(4)).toBe(2);
    store.close();
    const again = openStore(path);
    expect(again.outbox.append(EV, 'next', 'low').seq).toBe(5);
    expect(again.outbox.stats()).toMatchObject({ depth: 1, bytes: EV.length + 4 });
    again.close();
  });

  it('over the count cap, evicts the oldest LOW records first, keeps every high one, and counts the loss', () => {
    const events: StoreEvent[] = [];
    const { store, path } = open({ maxRecords: 5 }, events);
    store.outbox.append(ACK, 'ack-1', 'high');
    store.outbox.append(EV, 'flow-1', 'low');
    store.outbox.append(EV, 'flow-2', 'low');
    store.outbox.append(ACK, 'ack-2', 'high');
    store.outbox.append(EV, 'flow-3', 'low');
    const r = store.outbox.append(ACK, 'ack-3', 'high');
    expect(r.evicted).toEqual({ records: 1, bytes: EV.length + 6 });
    store.outbox.append(EV, 'flow-4', 'low');
    expect(store.outbox.peek(10).map((x) => x.payload.toString())).toEqual(['ack-1', 'ack-2', 'flow-3', 'ack-3', 'flow-4']);
    expect(store.outbox.lost()).toEqual({ records: 2, bytes: 2 * (EV.length + 6), highRefused: 0 });
    expect(events.filter((e) => e.type === 'outbox-dropped')).toHaveLength(2);
    store.close();
    // The loss counter is persisted: a reboot still reports it.
    const again = openStore(path);
    expect(again.outbox.lost().records).toBe(2);
    again.close();
  });

  it('over the byte cap, evicts as many low records as it takes', () => {
    const { store } = open({ maxBytes: 10 * (EV.length + 10) });
    for (let i = 0; i < 10; i++) store.outbox.append(EV, 'x'.repeat(10), 'low');
    const r = store.outbox.append(EV, 'y'.repeat(2 * EV.length + 25), 'low'); // needs the room of 3 small records
    expect(r.evicted.records).toBe(3);
    expect(store.outbox.bytes()).toBeLessThanOrEqual(10 * (EV.length + 10));
    expect(store.outbox.depth()).toBe(8);
    expect(() => store.outbox.append(EV, 'z'.repeat(1000), 'low')).toThrow(expect.objectContaining({ code: 'STORE_OUTBOX_RECORD_TOO_LARGE' }));
    store.close();
  });

  it('full of high-priority records only: a new low record is dropped, a new high one is refused with STORE_OUTBOX_FULL', () => {
    const events: StoreEvent[] = [];
    const { store } = open({ maxRecords: 3 }, events);
    for (let i = 1; i <= 3; i++) store.outbox.append(ACK, `ack-${i}`, 'high');
    expect(store.outbox.append(EV, 'flow', 'low')).toEqual({ seq: null, evicted: { records: 1, bytes: EV.length + 4 } });
    expect(() => store.outbox.append(ACK, 'ack-4', 'high')).toThrow(expect.objectContaining({ code: 'STORE_OUTBOX_FULL' }));
    expect(store.outbox.peek(10).map((x) => x.payload.toString())).toEqual(['ack-1', 'ack-2', 'ack-3']);
    expect(store.outbox.lost()).toEqual({ records: 1, bytes: EV.length + 4, highRefused: 1 });
    expect(events.at(-1)).toMatchObject({ type: 'outbox-dropped', priority: 'high', reason: 'refused' });
    // Once the broker confirms, there is room again.
    store.outbox.ack(1);
    expect(store.outbox.append(ACK, 'ack-4', 'high').seq).toBe(4); // dropped and refused records took no seq
    store.close();
  });

  it('a long outage: 0 lost below the cap, drained in order; above it, exactly the overflow of low records is lost', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ high: fc.boolean(), size: fc.integer({ min: 1, max: 50 }) }), { minLength: 1, maxLength: 120 }),
        fc.integer({ min: 5, max: 60 }),
        (recs, maxRecords) => {
          const { store } = open({ maxRecords, maxBytes: 1_000_000 });
          try {
            const highs = recs.filter((r) => r.high).length;
            fc.pre(highs <= maxRecords); // with more acks than the cap, refusals are expected (tested above)
            recs.forEach((r, i) => store.outbox.append(r.high ? ACK : EV, `${i}:${'.'.repeat(r.size)}`, r.high ? 'high' : 'low'));
            const lost = Math.max(0, recs.length - maxRecords);
            expect(store.outbox.lost().records).toBe(lost);
            // Drain as the link does: peek a batch, publish, ack.
            const drained: number[] = [];
            for (let batch = store.outbox.peek(7); batch.length > 0; batch = store.outbox.peek(7)) {
              drained.push(...batch.map((b) => Number(b.payload.toString().split(':')[0])));
              store.outbox.ack(batch.at(-1)!.seq);
            }
            expect(drained).toEqual([...drained].sort((a, b) => a - b));
            expect(drained).toHaveLength(recs.length - lost);
            // Every high record survived; the lost ones are the oldest lows.
            recs.forEach((r, i) => {
              if (r.high) expect(drained).toContain(i);
            });
            const lowsKept = drained.filter((i) => !recs[i].high);
            const lows = recs.map((r, i) => (r.high ? -1 : i)).filter((i) => i >= 0);
            expect(lowsKept).toEqual(lows.slice(lows.length - lowsKept.length));
            expect(store.outbox.depth()).toBe(0);
            expect(store.outbox.bytes()).toBe(0);
          } finally {
            store.close();
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});
