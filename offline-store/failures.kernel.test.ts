// A real full file system (tiny tmpfs) and one remounted read-only (root: mount): typed errors with a hint,
// and the store stays readable (the agent keeps enforcing and can still load the last-known-good bundle).
import { errorMessage } from '../base/index.ts';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore, StoreError, type StoreEvent } from './index.ts';
import { tempDirs } from './testing/tmp.ts';

const tmp = tempDirs('store-fail');
const mounts: string[] = [];
afterAll(() => {
  for (const m of mounts.reverse()) {
    try {
      execFileSync('umount', ['-l', m], { stdio: 'ignore' });
    } catch {
      /* already gone */
    }
  }
  tmp.cleanup();
});

function tryMount(args: string[], target: string): string | null {
  try {
    execFileSync('mount', [...args, target], { stdio: 'pipe' });
    mounts.push(target);
    return null;
  } catch (err) {
    return `mount ${args.join(' ')} failed: ${errorMessage(err).split('\n')[0]}`;
  }
}

// Mounting needs root and CAP_SYS_ADMIN; probe once so the skip says why.
const probeDir = tmp.make();
const cannotMount = tryMount(['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs'], probeDir);
if (cannotMount) console.warn(`skipping tmpfs/bind-mount store tests: ${cannotMount}`);
else execFileSync('umount', [probeDir]);

function catchErr(fn: () => unknown): StoreError {
  try {
    fn();
  } catch (e) {
    if (e instanceof StoreError) return e;
    throw e;
  }
  throw new Error('expected a StoreError');
}

describe('disk full', () => {
  it.skipIf(cannotMount !== null)('a real full file system (tiny tmpfs): STORE_DISK_FULL, readable, writable again once space is freed', () => {
    const dir = tmp.make();
    expect(tryMount(['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs'], dir)).toBeNull();
    const store = openStore(join(dir, 'agent.db'));
    try {
      const b = store.bundles.recordReceived(Buffer.alloc(1000, 1), 4);
      store.bundles.setLastKnownGood(b.id);
      store.bundles.markApplied(b.id);
      // Fill the file system with something else, the way logs or images do.
      const filler = join(dir, 'filler');
      try {
        writeFileSync(filler, Buffer.alloc(1024 * 1024));
      } catch {
        /* ENOSPC: that was the point */
      }
      const err = catchErr(() => {
        for (let i = 0; i < 500; i++) store.outbox.append('t', Buffer.alloc(4096, i), 'low');
      });
      expect(err.code).toBe('STORE_DISK_FULL');
      expect(store.bundles.lastKnownGood()).toMatchObject({ generation: 4, status: 'applied' });
      rmSync(filler);
      expect(store.outbox.append('t', 'after', 'high').seq).not.toBeNull();
      expect(store.checkIntegrity().ok).toBe(true);
    } finally {
      store.close();
    }
  });
});

describe('read-only', () => {
  it.skipIf(cannotMount !== null)('a store on a file system remounted read-only opens read-only: LKG readable, writes STORE_READ_ONLY', () => {
    const src = tmp.make();
    const path = join(src, 'agent.db');
    const w = openStore(path);
    const b = w.bundles.recordReceived(Buffer.from('signed'), 11);
    w.bundles.setLastKnownGood(b.id);
    w.bundles.markApplied(b.id);
    w.outbox.append('t', 'queued', 'high');
    w.close();
    const ro = join(tmp.make(), 'ro');
    mkdirSync(ro);
    expect(tryMount(['--bind', src], ro)).toBeNull();
    execFileSync('mount', ['-o', 'remount,ro,bind', ro]);
    const events: StoreEvent[] = [];
    const store = openStore(join(ro, 'agent.db'), { onEvent: (e) => events.push(e) });
    try {
      expect(store.writable).toBe(false);
      expect(store.bundles.lastKnownGood()).toMatchObject({ generation: 11, status: 'applied' });
      expect(store.bundles.lastKnownGood()!.bytes.toString()).toBe('signed');
      expect(store.outbox.depth()).toBe(1);
      const err = catchErr(() => store.outbox.append('t', 'x', 'high'));
      expect(err.code).toBe('STORE_READ_ONLY');
      expect(err.message).toContain(join(ro, 'agent.db'));
    } finally {
      store.close();
    }
  });
});
