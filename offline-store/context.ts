// What every part of the store shares: the connection, the clock, the event sink, and the one door for writes
// (so disk-full and read-only errors are typed and reported the same way everywhere).
import type Database from 'better-sqlite3';
import { StoreError } from './errors.ts';
import { toStoreError } from './sqlite-errors.ts';
import type { Clock, StoreEvent } from './types.ts';

export class StoreContext {
  constructor(
    readonly db: Database.Database,
    readonly path: string,
    readonly clock: Clock,
    readonly writable: boolean,
    private readonly onEvent: (e: StoreEvent) => void,
  ) {}

  emit(e: StoreEvent): void {
    try {
      this.onEvent(e);
    } catch {
      // A faulty listener must not break a committed write.
    }
  }

  /** Runs fn in one IMMEDIATE transaction; a failure rolls it back and surfaces as a typed StoreError. */
  write<T>(op: string, fn: () => T): T {
    if (!this.writable) {
      throw new StoreError('STORE_READ_ONLY', `${op}: ${this.path} was opened read-only`, 'open it without { readonly: true } to write');
    }
    try {
      return this.db.transaction(fn).immediate();
    } catch (err) {
      const e = toStoreError(err, this.path, op);
      if (e.code === 'STORE_DISK_FULL' || e.code === 'STORE_READ_ONLY' || e.code === 'STORE_IO' || e.code === 'STORE_CORRUPT') {
        this.emit({ type: 'write-failed', error: e });
      }
      throw e;
    }
  }

  read<T>(op: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw toStoreError(err, this.path, op);
    }
  }

  getState(name: string): number | null {
    const row = this.db.prepare('SELECT value FROM state WHERE name = ?').get(name) as { value: number | null } | undefined;
    return row?.value ?? null;
  }

  /** Only inside write(). */
  setState(name: string, value: number | null): void {
    this.db.prepare('INSERT INTO state (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value').run(name, value);
  }
}
