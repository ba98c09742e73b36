import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore, type AgentStore } from './index.ts';
import { manualClock, tempDirs } from './testing/tmp.ts';

const tmp = tempDirs('store-bundles');
afterAll(() => tmp.cleanup());

function withStore(fn: (s: AgentStore, clock: ReturnType<typeof manualClock>, path: string) => void, history?: number): void {
  const clock = manualClock();
  const path = join(tmp.make(), 'agent.db');
  const s = openStore(path, { clock: clock.now, bundleHistory: history });
  try {
    fn(s, clock, path);
  } finally {
    s.close();
  }
}

describe('bundles', () => {
  it('keeps the signed bytes exactly, with times and status through received -> LKG -> applied', () =>
    withStore((s, clock) => {
      const bytes = Buffer.from([0, 1, 2, 255, 0x7b, 0x22]);
      const r = s.bundles.recordReceived(bytes, 5);
      expect(r).toMatchObject({ generation: 5, status: 'received', receivedAt: clock.now(), appliedAt: null });
      expect(r.bytes.equals(bytes)).toBe(true);
      expect(s.bundles.lastKnownGood()).toBeNull();
      s.bundles.setLastKnownGood(r.id);
      expect(s.bundles.lastKnownGood()?.id).toBe(r.id);
      clock.advance(40);
      s.bundles.markApplied(r.id);
      expect(s.bundles.lastApplied()).toMatchObject({ id: r.id, status: 'applied', appliedAt: clock.now() });
      expect(s.bundles.findBySha256(r.sha256)?.id).toBe(r.id);
    }));

  it('the LKG pointer survives a crash between setLastKnownGood and markApplied', () => {
    const path = join(tmp.make(), 'agent.db');
    const a = openStore(path);
    const r = a.bundles.recordReceived(Buffer.from('gen-9'), 9);
    a.bundles.setLastKnownGood(r.id);
    a.close(); // the apply never happened
    const b = openStore(path);
    expect(b.bundles.lastKnownGood()).toMatchObject({ id: r.id, generation: 9, status: 'received' });
    b.close();
  });

  it('rejections keep code and reason; an unparseable bundle has no generation; a rejected bundle cannot become LKG', () =>
    withStore((s) => {
      const forged = s.bundles.recordReceived(Buffer.from('garbage'), null);
      s.bundles.markRejected(forged.id, 'BUNDLE_BAD_SIGNATURE', 'signature does not verify with any trusted key');
      expect(s.bundles.lastRejected()).toMatchObject({ id: forged.id, generation: null, status: 'rejected', rejectCode: 'BUNDLE_BAD_SIGNATURE' });
      expect(() => s.bundles.setLastKnownGood(forged.id)).toThrow(expect.objectContaining({ code: 'STORE_BAD_INPUT' }));
      expect(() => s.bundles.markApplied(12345)).toThrow(expect.objectContaining({ code: 'STORE_NOT_FOUND' }));
      expect(() => s.bundles.recordReceived(Buffer.from('x'), -1)).toThrow(expect.objectContaining({ code: 'STORE_BAD_INPUT' }));
    }));

  it('when the apply of the new LKG fails, the pointer falls back to the last applied bundle', () =>
    withStore((s, clock) => {
      const g1 = s.bundles.recordReceived(Buffer.from('g1'), 1);
      s.bundles.setLastKnownGood(g1.id);
      s.bundles.markApplied(g1.id);
      clock.advance(1000);
      const g2 = s.bundles.recordReceived(Buffer.from('g2'), 2);
      s.bundles.setLastKnownGood(g2.id);
      s.bundles.markRejected(g2.id, 'POLICY_CAPACITY', 'too many rules for the maps');
      expect(s.bundles.lastKnownGood()?.id).toBe(g1.id);
      // With nothing applied before, there is no last-known-good at all.
      const only = openStore(join(tmp.make(), 'a.db'));
      const b = only.bundles.recordReceived(Buffer.from('b'), 1);
      only.bundles.setLastKnownGood(b.id);
      only.bundles.markRejected(b.id, 'POLICY_CAPACITY', 'x');
      expect(only.bundles.lastKnownGood()).toBeNull();
      only.close();
    }));

  it('prunes history beyond bundleHistory but never the LKG', () =>
    withStore((s) => {
      const lkg = s.bundles.recordReceived(Buffer.from('lkg'), 1);
      s.bundles.setLastKnownGood(lkg.id);
      s.bundles.markApplied(lkg.id);
      for (let g = 2; g <= 10; g++) s.bundles.markRejected(s.bundles.recordReceived(Buffer.from(`g${g}`), g).id, 'BUNDLE_REPLAY', 'x');
      const ids = s.bundles.list(100).map((b) => b.generation);
      expect(ids).toEqual([10, 9, 8, 1]);
      expect(s.bundles.lastKnownGood()?.generation).toBe(1);
    }, 3));
});
