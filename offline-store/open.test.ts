import Database from 'better-sqlite3';
import { existsSync, readdirSync, statSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore, StoreError, LATEST_VERSION } from './index.ts';
import type { StoreEvent } from './index.ts';
import { manualClock, tempDirs } from './testing/tmp.ts';

const tmp = tempDirs('store-open');
afterAll(() => tmp.cleanup());

const mode = (p: string) => statSync(p).mode & 0o777;

describe('openStore', () => {
  it('creates the directory 0700 and the database 0600 (also its WAL and shm files), in WAL with synchronous=FULL', () => {
    const dir = join(tmp.make(), 'var', 'lib', 'weft');
    const path = join(dir, 'agent.db');
    const old = process.umask(0o022);
    const store = openStore(path);
    process.umask(old);
    try {
      expect(store.opened).toEqual({ kind: 'created', schemaVersion: LATEST_VERSION });
      store.config.set('k', 1); // forces the WAL file to exist
      expect(mode(dir)).toBe(0o700);
      expect(mode(path)).toBe(0o600);
      for (const side of ['-wal', '-shm']) if (existsSync(path + side)) expect(mode(path + side)).toBe(0o600);
      const raw = new Database(path, { readonly: true });
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(raw.pragma('user_version', { simple: true })).toBe(LATEST_VERSION);
      raw.close();
    } finally {
      store.close();
    }
  });

  it('reopens an existing store and keeps what it held', () => {
    const path = join(tmp.make(), 'agent.db');
    const a = openStore(path);
    a.config.set('site', { name: 'shop-7', zones: [1, 2] });
    a.close();
    const b = openStore(path);
    expect(b.opened).toEqual({ kind: 'opened', schemaVersion: LATEST_VERSION });
    expect(b.config.get('site')).toEqual({ name: 'shop-7', zones: [1, 2] });
    expect(b.checkIntegrity()).toEqual({ ok: true, problems: [] });
    b.close();
  });

  it('config: set, overwrite, delete, all; rejects values that are not JSON', () => {
    const store = openStore(join(tmp.make(), 'agent.db'));
    try {
      store.config.set('a', 'x');
      store.config.set('a', 'y');
      store.config.set('b', [true, null]);
      expect(store.config.all()).toEqual({ a: 'y', b: [true, null] });
      expect(store.config.delete('a')).toBe(true);
      expect(store.config.delete('a')).toBe(false);
      expect(store.config.get('a')).toBeUndefined();
      expect(() => store.config.set('f', undefined as never)).toThrow(expect.objectContaining({ code: 'STORE_BAD_INPUT' }));
    } finally {
      store.close();
    }
  });

  it('moves a file that is not a database aside, reports it, and starts fresh', () => {
    const dir = tmp.make();
    const path = join(dir, 'agent.db');
    writeFileSync(path, 'this is not sqlite '.repeat(500));
    const clock = manualClock(Date.UTC(2026, 4, 1, 12, 0, 0));
    const events: StoreEvent[] = [];
    const store = openStore(path, { clock: clock.now, onEvent: (e) => events.push(e) });
    try {
      expect(store.opened.kind).toBe('recovered');
      const movedTo = join(dir, 'agent.db.corrupt-2026-05-01T12-00-00-000Z');
      expect(store.opened).toMatchObject({ movedTo });
      expect(events).toEqual([expect.objectContaining({ type: 'recovered-corrupt', path, movedTo })]);
      expect(existsSync(movedTo)).toBe(true);
      expect(mode(path)).toBe(0o600);
      store.config.set('fresh', true);
      expect(store.config.get('fresh')).toBe(true);
    } finally {
      store.close();
    }
  });

  it('moves aside a database whose pages are damaged (integrity check fails)', () => {
    const dir = tmp.make();
    const path = join(dir, 'agent.db');
    const a = openStore(path, { bundleHistory: 1000 });
    for (let i = 0; i < 80; i++) a.bundles.recordReceived(Buffer.alloc(3000, i), i);
    a.close();
    // Scribble over the middle of the file: b-tree pages, not the header.
    const size = statSync(path).size;
    const fd = openSync(path, 'r+');
    for (let off = 8192; off < size - 4096; off += 16384) writeSync(fd, Buffer.alloc(600, 0xa5), 0, 600, off);
    closeSync(fd);
    const events: StoreEvent[] = [];
    const b = openStore(path, { onEvent: (e) => events.push(e) });
    try {
      expect(b.opened.kind).toBe('recovered');
      expect(events[0]).toMatchObject({ type: 'recovered-corrupt' });
      expect(b.bundles.list()).toEqual([]);
      expect(readdirSync(dir).filter((f) => f.includes('.corrupt-'))).toHaveLength(1);
    } finally {
      b.close();
    }
  });

  it('refuses a store written by a newer agent, without touching it', () => {
    const path = join(tmp.make(), 'agent.db');
    openStore(path).close();
    const raw = new Database(path);
    raw.pragma(`user_version = ${LATEST_VERSION + 1}`);
    raw.close();
    const err = (() => {
      try {
        openStore(path);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(StoreError);
    expect(err).toMatchObject({ code: 'STORE_NEWER_SCHEMA' });
    expect((err as StoreError).hint).toMatch(/newer agent/);
    expect(existsSync(path)).toBe(true);
  });

  it('readonly: reads work, writes throw STORE_READ_ONLY, a missing store is a clear error', () => {
    const path = join(tmp.make(), 'agent.db');
    const w = openStore(path);
    w.config.set('x', 1);
    const ro = openStore(path, { readonly: true });
    try {
      expect(ro.writable).toBe(false);
      expect(ro.config.get('x')).toBe(1);
      expect(() => ro.config.set('x', 2)).toThrow(expect.objectContaining({ code: 'STORE_READ_ONLY' }));
    } finally {
      ro.close();
      w.close();
    }
    expect(() => openStore(join(tmp.make(), 'missing.db'), { readonly: true })).toThrow(expect.objectContaining({ code: 'STORE_NOT_FOUND' }));
  });
});
