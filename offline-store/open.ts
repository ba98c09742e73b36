// Opening the store: secure file modes, durability pragmas, integrity check, corrupt-file recovery, migrations.
import { errorCode, errorMessage } from '../base/index.ts';
import Database from 'better-sqlite3';
import { accessSync, chmodSync, closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { bundleStore } from './bundles.ts';
import { configStore } from './config.ts';
import { StoreContext } from './context.ts';
import { fqdnStore } from './fqdn.ts';
import { StoreError } from './errors.ts';
import { identityStore } from './identity.ts';
import { DEFAULT_OUTBOX_LIMITS, outbox } from './outbox.ts';
import { LATEST_VERSION, MIGRATIONS } from './schema.ts';
import { isCorruption, toStoreError } from './sqlite-errors.ts';
import type { AgentStore, OpenReport, OpenStoreOptions } from './types.ts';

const SIDE_FILES = ['-wal', '-shm'] as const;

/** Creates the directory 0700 and the file 0600 before SQLite sees them, so no umask can widen them. */
function prepareFile(path: string): boolean {
  const dir = dirname(path);
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
  }
  const created = !existsSync(path);
  if (created) closeSync(openSync(path, 'wx', 0o600));
  // On a read-only file system the mode cannot be fixed; the connection then falls back to read-only.
  if ((statSync(path).mode & 0o777) !== 0o600) chmodSync(path, 0o600);
  return created;
}

function integrityProblems(db: Database.Database, mode: 'full' | 'quick'): string[] {
  const rows = db.pragma(mode === 'full' ? 'integrity_check' : 'quick_check', { simple: false }) as Record<string, string>[];
  const msgs = rows.map((r) => String(Object.values(r)[0]));
  return msgs.length === 1 && msgs[0] === 'ok' ? [] : msgs;
}

function fileSystemIsReadOnly(path: string): boolean {
  try {
    accessSync(dirname(path), constants.W_OK);
    return false;
  } catch (err) {
    const code = errorCode(err);
    return code === 'EROFS' || code === 'EACCES';
  }
}

/**
 * A WAL database on a read-only file system cannot be opened in place once its -shm file is gone (a clean
 * shutdown removes it, and better-sqlite3 is built without URI support, so no `immutable=1`). After a clean
 * shutdown the file holds everything, so read an in-memory copy of it. With an uncheckpointed -wal left on
 * the read-only disk the newest transactions would be invisible: refuse rather than serve stale state.
 */
function openReadOnlyFallback(path: string): Database.Database {
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    db.pragma('schema_version');
    return db;
  } catch {
    // -shm missing and not creatable: fall through to the in-memory copy.
  }
  if (existsSync(`${path}-wal`) && statSync(`${path}-wal`).size > 0) {
    throw new StoreError(
      'STORE_READ_ONLY',
      `${path} is on a read-only file system with an uncheckpointed WAL; it cannot be read safely`,
      'remount the file system read-write (check dmesg for why it went read-only) and restart the agent',
    );
  }
  const image = readFileSync(path);
  // Header bytes 18/19 say "WAL"; an in-memory database cannot do WAL, so mark the copy as a rollback-journal file.
  if (image.length >= 100) image[18] = image[19] = 1;
  return new Database(image, { readonly: true });
}

/** Opens the connection and checks it; throws what it found so the caller can decide on recovery. */
function connect(path: string, opts: OpenStoreOptions): { db: Database.Database; writable: boolean } {
  let db = new Database(path, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  let writable = !opts.readonly;
  try {
    db.pragma('busy_timeout = 5000');
    try {
      // Touch the header first: a file that is not a database fails here with SQLITE_NOTADB.
      db.pragma('schema_version');
      if (writable && !db.readonly) db.pragma('journal_mode = WAL');
      else writable = false;
    } catch (err) {
      if (isCorruption(err) || !fileSystemIsReadOnly(path)) throw err;
      // A read-only file system: keep a read-only connection so the last-known-good bundle can still be read.
      db.close();
      db = openReadOnlyFallback(path);
      writable = false;
    }
    if (writable) {
      db.pragma('synchronous = FULL');
      if (opts.maxPageCount !== undefined) db.pragma(`max_page_count = ${Math.floor(opts.maxPageCount)}`);
    }
    const problems = integrityProblems(db, opts.integrityCheck ?? 'full');
    if (problems.length > 0) {
      throw new StoreError('STORE_CORRUPT', `integrity check of ${path} failed: ${problems.slice(0, 3).join('; ')}`);
    }
    return { db, writable };
  } catch (err) {
    db.close();
    throw err;
  }
}

function migrate(db: Database.Database, path: string): number | undefined {
  const from = db.pragma('user_version', { simple: true }) as number;
  if (from > LATEST_VERSION) {
    throw new StoreError(
      'STORE_NEWER_SCHEMA',
      `${path} has schema version ${from}, this agent knows up to ${LATEST_VERSION}`,
      'a newer agent wrote this store: run that version again (downgrades keep enforcing from the kernel but cannot use the store)',
    );
  }
  if (from === LATEST_VERSION) return undefined;
  try {
    // One transaction for the whole climb: a power cut leaves the old version, never a half-migrated store.
    db.transaction(() => {
      for (let v = from + 1; v <= LATEST_VERSION; v++) {
        MIGRATIONS[v](db);
        db.pragma(`user_version = ${v}`);
      }
    }).immediate();
  } catch (err) {
    const e = toStoreError(err, path, `migrating from version ${from}`);
    throw e.code === 'STORE_IO' ? new StoreError('STORE_MIGRATION_FAILED', e.message, e.hint, { cause: err }) : e;
  }
  return from;
}

function moveAside(path: string, at: number): string {
  const movedTo = `${path}.corrupt-${new Date(at).toISOString().replace(/[:.]/g, '-')}`;
  renameSync(path, movedTo);
  for (const s of SIDE_FILES) {
    if (!existsSync(path + s)) continue;
    if (s === '-wal') renameSync(path + s, movedTo + s);
    else rmSync(path + s, { force: true });
  }
  return movedTo;
}

/**
 * Opens (creating, migrating or recovering) the agent store at `path`. See index.ts for the API.
 * Throws StoreError: STORE_NEWER_SCHEMA, STORE_READ_ONLY (readonly open of a missing or outdated store),
 * STORE_DISK_FULL / STORE_IO when the file cannot be created or migrated.
 */
export function openStore(path: string, opts: OpenStoreOptions = {}): AgentStore {
  const clock = opts.clock ?? Date.now;
  const onEvent = opts.onEvent ?? (() => {});
  let created = false;
  let recovered: { movedTo: string; reason: string } | undefined;
  let conn: { db: Database.Database; writable: boolean };
  if (opts.readonly && !existsSync(path)) {
    throw new StoreError('STORE_NOT_FOUND', `${path} does not exist`, 'the agent creates it on its first start (weft-agent run)');
  }
  try {
    if (!opts.readonly) created = prepareFile(path);
    conn = connect(path, opts);
  } catch (err) {
    const corrupt = (err instanceof StoreError && err.code === 'STORE_CORRUPT') || isCorruption(err);
    if (!corrupt) throw toStoreError(err, path, 'open');
    if (opts.readonly) throw toStoreError(err, path, 'open');
    const reason = errorMessage(err);
    const movedTo = moveAside(path, clock());
    recovered = { movedTo, reason };
    onEvent({ type: 'recovered-corrupt', path, movedTo, reason });
    created = prepareFile(path);
    conn = connect(path, opts);
  }
  const { db, writable } = conn;
  let migratedFrom: number | undefined;
  try {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (writable) migratedFrom = migrate(db, path);
    else if (version !== LATEST_VERSION) {
      throw new StoreError(
        'STORE_READ_ONLY',
        `${path} has schema version ${version}, needs ${LATEST_VERSION}, and cannot be migrated read-only`,
        'open it writable once (start the agent) to migrate it',
      );
    }
  } catch (err) {
    db.close();
    throw err;
  }

  const ctx = new StoreContext(db, path, clock, writable, onEvent);
  const schemaVersion = LATEST_VERSION;
  const opened: OpenReport = recovered
    ? { kind: 'recovered', schemaVersion, ...recovered }
    : created || migratedFrom === 0
      ? { kind: 'created', schemaVersion }
      : { kind: 'opened', schemaVersion, ...(migratedFrom !== undefined ? { migratedFrom } : {}) };

  let closed = false;
  return {
    path,
    opened,
    schemaVersion,
    writable,
    bundles: bundleStore(ctx, opts.bundleHistory ?? 16),
    identity: identityStore(ctx),
    config: configStore(ctx),
    outbox: outbox(ctx, { ...DEFAULT_OUTBOX_LIMITS, ...opts.outbox }),
    fqdn: fqdnStore(ctx),
    checkIntegrity(mode = 'full') {
      const problems = ctx.read('checkIntegrity', () => integrityProblems(db, mode));
      return { ok: problems.length === 0, problems };
    },
    close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
