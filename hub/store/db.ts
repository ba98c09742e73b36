// Opens the hub's SQLite file (WAL, 0600) and brings its schema up to date.
import { errorMessage } from '../../base/index.ts';
import Database from 'better-sqlite3';
import { chmodSync, existsSync } from 'node:fs';
import { StoreError } from './errors.ts';
import { MIGRATIONS } from './migrations.ts';

export type Db = Database.Database;

/** A repo interface of types.ts with its Promises unwrapped: what the SQLite repos implement (better-sqlite3 is synchronous). */
export type Sync<R> = { [K in keyof R]: R[K] extends (...args: infer A) => Promise<infer T> ? (...args: A) => T : R[K] };

const statements = new WeakMap<Db, Map<string, Database.Statement>>();

/**
 * The prepared statement for this SQL, prepared once per database: preparing costs more than running
 * a simple statement, and a rollout runs a few per site. (Repos build SQL from a fixed set of column
 * names and filters, so the cache stays small.)
 */
export function stmt(db: Db, sql: string): Database.Statement {
  let cache = statements.get(db);
  if (!cache) statements.set(db, (cache = new Map()));
  let s = cache.get(sql);
  if (!s) cache.set(sql, (s = db.prepare(sql)));
  return s;
}

export { StoreError };

/** Applies the migrations after the file's user_version, each in its own transaction. */
export function migrate(db: Db, upTo = MIGRATIONS.length): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new StoreError('STORE_TOO_NEW', `database schema version ${current} is newer than this hub (${MIGRATIONS.length}): upgrade the hub`);
  }
  for (let v = current; v < upTo; v++) {
    try {
      db.transaction(() => {
        db.exec(MIGRATIONS[v]);
        db.pragma(`user_version = ${v + 1}`);
      })();
    } catch (e) {
      throw new StoreError('STORE_MIGRATION_FAILED', `migration ${v + 1} failed: ${errorMessage(e)}`);
    }
  }
}

export function openDatabase(path: string, opts: { migrateTo?: number } = {}): Db {
  const fresh = !existsSync(path);
  const db = new Database(path);
  if (fresh) chmodSync(path, 0o600);
  db.pragma('journal_mode = WAL');
  // NORMAL: in WAL mode a power cut can lose the last commits, never corrupt the file. Measured on the
  // dev VM (ext4 on virtio): ~30 000 commits/s against ~500 with FULL, which telemetry from thousands of
  // sites needs. What must not roll back (a generation once published, a password once handed out)
  // commits with store.tx(fn, { durable: true }), which syncs the WAL and so everything before it.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db, opts.migrateTo);
  return db;
}
