// Disk full (SQLite's page limit, no mount needed): a typed error with a hint, and the store stays readable
// (the agent keeps enforcing and can still load the last-known-good bundle). The real full and read-only
// file systems need mount: failures.kernel.test.ts.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore, StoreError, type StoreEvent } from './index.ts';
import { tempDirs } from './testing/tmp.ts';

const tmp = tempDirs('store-fail');
afterAll(() => tmp.cleanup());

describe('disk full', () => {
  it('max_page_count reached: STORE_DISK_FULL with a hint, reads keep working, nothing half-written', () => {
    const events: StoreEvent[] = [];
    const store = openStore(join(tmp.make(), 'agent.db'), { maxPageCount: 40, onEvent: (e) => events.push(e) });
    try {
      const b = store.bundles.recordReceived(Buffer.from('lkg'), 3);
      store.bundles.setLastKnownGood(b.id);
      let err: StoreError | undefined;
      for (let i = 0; i < 1000 && !err; i++) {
        try {
          store.outbox.append('t', Buffer.alloc(2000, i), 'high');
        } catch (e) {
          err = e as StoreError;
        }
      }
      expect(err).toBeInstanceOf(StoreError);
      expect(err!.code).toBe('STORE_DISK_FULL');
      expect(err!.message).toMatch(/full/);
      expect(err!.hint).toMatch(/free space/);
      expect(events.some((e) => e.type === 'write-failed' && e.error.code === 'STORE_DISK_FULL')).toBe(true);
      const depth = store.outbox.depth();
      expect(store.outbox.peek(depth + 10)).toHaveLength(depth); // in-memory totals match what committed
      expect(store.bundles.lastKnownGood()?.generation).toBe(3);
      expect(store.checkIntegrity().ok).toBe(true);
      // Acking frees pages: the store is writable again.
      store.outbox.ack(depth);
      expect(store.outbox.append('t', 'after', 'high').seq).toBeGreaterThan(depth);
    } finally {
      store.close();
    }
  });
});
