// Schema history. SNAPSHOTS[v] is the whole schema as it stood at version v (what an agent of that version
// created); MIGRATIONS[v] takes a database from v-1 to v. The migration test builds a database from every
// older snapshot, fills it, migrates it and compares with a fresh one, so keep old snapshots unchanged and
// add a new snapshot with every new migration.
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';

export const SNAPSHOTS: Record<number, string> = {
  1: `
    CREATE TABLE bundles (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      bytes BLOB NOT NULL,
      generation INTEGER,
      received_at INTEGER NOT NULL,
      applied_at INTEGER,
      status TEXT NOT NULL CHECK (status IN ('received', 'applied', 'rejected'))
    );
    CREATE TABLE state (name TEXT PRIMARY KEY, value INTEGER);
    CREATE TABLE config (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE identity (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      ed25519_pkcs8 BLOB NOT NULL,
      x25519_pkcs8 BLOB NOT NULL,
      created_at INTEGER NOT NULL
    );
    CREATE TABLE enrollment (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      site_id TEXT NOT NULL,
      doc TEXT NOT NULL,
      enrolled_at INTEGER NOT NULL
    );
    CREATE TABLE outbox (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      topic TEXT NOT NULL,
      payload BLOB NOT NULL,
      created_at INTEGER NOT NULL
    );`,
  // v2: rejections carry a code and reason; bundles are found by digest (redelivered retained messages);
  // the pinned hub CA fingerprint gets its own column.
  2: `
    CREATE TABLE bundles (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      bytes BLOB NOT NULL,
      generation INTEGER,
      received_at INTEGER NOT NULL,
      applied_at INTEGER,
      status TEXT NOT NULL CHECK (status IN ('received', 'applied', 'rejected')),
      reject_code TEXT,
      reject_reason TEXT,
      sha256 TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX bundles_sha256 ON bundles (sha256);
    CREATE TABLE state (name TEXT PRIMARY KEY, value INTEGER);
    CREATE TABLE config (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE identity (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      ed25519_pkcs8 BLOB NOT NULL,
      x25519_pkcs8 BLOB NOT NULL,
      created_at INTEGER NOT NULL
    );
    CREATE TABLE enrollment (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      site_id TEXT NOT NULL,
      doc TEXT NOT NULL,
      enrolled_at INTEGER NOT NULL,
      hub_ca_fingerprint TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE outbox (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      topic TEXT NOT NULL,
      payload BLOB NOT NULL,
      created_at INTEGER NOT NULL
    );`,
  // v3: the outbox becomes bounded: priorities, byte sizes for the byte cap, persisted loss counters.
  3: `
    CREATE TABLE bundles (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      bytes BLOB NOT NULL,
      generation INTEGER,
      received_at INTEGER NOT NULL,
      applied_at INTEGER,
      status TEXT NOT NULL CHECK (status IN ('received', 'applied', 'rejected')),
      reject_code TEXT,
      reject_reason TEXT,
      sha256 TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX bundles_sha256 ON bundles (sha256);
    CREATE TABLE state (name TEXT PRIMARY KEY, value INTEGER);
    CREATE TABLE config (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE identity (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      ed25519_pkcs8 BLOB NOT NULL,
      x25519_pkcs8 BLOB NOT NULL,
      created_at INTEGER NOT NULL
    );
    CREATE TABLE enrollment (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      site_id TEXT NOT NULL,
      doc TEXT NOT NULL,
      enrolled_at INTEGER NOT NULL,
      hub_ca_fingerprint TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE outbox (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      topic TEXT NOT NULL,
      payload BLOB NOT NULL,
      created_at INTEGER NOT NULL,
      priority INTEGER NOT NULL DEFAULT 0 CHECK (priority IN (0, 1)),
      bytes INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX outbox_priority_seq ON outbox (priority, seq);
    CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);`,
  // v4: addresses learned from DNS answers (FQDN egress), with their wall-clock expiry, for a reboot or a fresh map layout.
  4: `
    CREATE TABLE bundles (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      bytes BLOB NOT NULL,
      generation INTEGER,
      received_at INTEGER NOT NULL,
      applied_at INTEGER,
      status TEXT NOT NULL CHECK (status IN ('received', 'applied', 'rejected')),
      reject_code TEXT,
      reject_reason TEXT,
      sha256 TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX bundles_sha256 ON bundles (sha256);
    CREATE TABLE state (name TEXT PRIMARY KEY, value INTEGER);
    CREATE TABLE config (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE identity (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      ed25519_pkcs8 BLOB NOT NULL,
      x25519_pkcs8 BLOB NOT NULL,
      created_at INTEGER NOT NULL
    );
    CREATE TABLE enrollment (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      site_id TEXT NOT NULL,
      doc TEXT NOT NULL,
      enrolled_at INTEGER NOT NULL,
      hub_ca_fingerprint TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE outbox (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      topic TEXT NOT NULL,
      payload BLOB NOT NULL,
      created_at INTEGER NOT NULL,
      priority INTEGER NOT NULL DEFAULT 0 CHECK (priority IN (0, 1)),
      bytes INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX outbox_priority_seq ON outbox (priority, seq);
    CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    CREATE TABLE fqdn_learned (
      addr TEXT NOT NULL,
      pattern TEXT NOT NULL,
      expires_at INTEGER NOT NULL,
      PRIMARY KEY (addr, pattern)
    ) WITHOUT ROWID;`,
};

export const LATEST_VERSION = 4;

type Migration = (db: Database.Database) => void;

export const MIGRATIONS: Record<number, Migration> = {
  1: (db) => db.exec(SNAPSHOTS[1]),
  2: (db) => {
    db.exec(`
      ALTER TABLE bundles ADD COLUMN reject_code TEXT;
      ALTER TABLE bundles ADD COLUMN reject_reason TEXT;
      ALTER TABLE bundles ADD COLUMN sha256 TEXT NOT NULL DEFAULT '';
      CREATE INDEX bundles_sha256 ON bundles (sha256);
      ALTER TABLE enrollment ADD COLUMN hub_ca_fingerprint TEXT NOT NULL DEFAULT '';`);
    const rows = db.prepare('SELECT id, bytes FROM bundles').all() as { id: number; bytes: Buffer }[];
    const set = db.prepare('UPDATE bundles SET sha256 = ? WHERE id = ?');
    for (const r of rows) set.run(createHash('sha256').update(r.bytes).digest('hex'), r.id);
    // v1 kept the fingerprint inside the enrollment document.
    db.exec(`UPDATE enrollment SET hub_ca_fingerprint = coalesce(json_extract(doc, '$.hubCaFingerprint'), '')`);
  },
  3: (db) => {
    // v1/v2 never evicted, so what they queued stays high priority (0): a migration must not start losing it.
    db.exec(`
      ALTER TABLE outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 0 CHECK (priority IN (0, 1));
      ALTER TABLE outbox ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
      UPDATE outbox SET bytes = length(CAST(topic AS BLOB)) + length(payload);
      CREATE INDEX outbox_priority_seq ON outbox (priority, seq);
      CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);`);
  },
  4: (db) => {
    db.exec(`
      CREATE TABLE fqdn_learned (
        addr TEXT NOT NULL,
        pattern TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (addr, pattern)
      ) WITHOUT ROWID;`);
  },
};
