import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { migrate, openDatabase, StoreError } from './db.ts';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.ts';
import { openHubStore } from './sqlite-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'weft-hub-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = () => join(dir, `hub-${n++}.db`);

const spec = {
  name: 'store-1',
  labels: { region: 'eu' },
  lat: 1,
  lon: 2,
  clientCidrs: ['10.1.0.0/16'],
  capacity: 10,
  services: [{ name: 'pos', addresses: ['10.1.0.5'] }],
};

// SQLite only: migrations by user_version, file mode, WAL. What every backend must do is in
// testing/contract.ts (store.contract.test.ts).

// Rows a hub at each schema version could hold; inserted before upgrading to prove data survives.
const SEED: Record<number, (db: Database.Database) => void> = {
  1: (db) => {
    db.prepare("INSERT INTO sites (id, name, created_at) VALUES ('s1', 'store-1', 1)").run();
    db.prepare("INSERT INTO api_tokens (id, name, hash, role, created_at) VALUES ('t1', 'ops', 'h1', 'admin', 1)").run();
  },
  2: (db) => {
    db.prepare("INSERT INTO policy_versions (yaml, objects, author, message, created_at) VALUES ('a: 1', '[]', 'ops', 'first', 1)").run();
    db.prepare("INSERT INTO site_generations (site_id, generation) VALUES ('s1', 4)").run();
  },
  3: (db) => {
    // From version 6 on, a batch names its device.
    const device = (db.prepare('PRAGMA table_info(telemetry_batches)').all() as { name: string }[]).some((c) => c.name === 'device');
    if (device) db.prepare("INSERT INTO telemetry_batches (site_id, device, seq, type, at, received_at) VALUES ('s1', '', 7, 'verdicts', 'x', 1)").run();
    else db.prepare("INSERT INTO telemetry_batches (site_id, seq, type, at, received_at) VALUES ('s1', 7, 'verdicts', 'x', 1)").run();
  },
  4: (db) => {
    db.prepare("INSERT INTO signing_keys (key_id, public_key, created_at) VALUES ('k1', 'pk', 1)").run();
  },
  5: (db) => {
    db.prepare("INSERT INTO enroll_challenges (hash, expires_at) VALUES ('c1', 10)").run();
  },
  6: () => {},
  7: (db) => {
    db.prepare(
      "INSERT INTO site_nodes (site_id, name, state, identity_key, wireguard_key, overlay_index, enrolled_at) VALUES ('s1', 'n1', 'enrolled', 'ik', 'wk', 9, 1)",
    ).run();
  },
};

describe('hub store migrations', () => {
  it.each(Array.from({ length: SCHEMA_VERSION }, (_, i) => i))('upgrades a database from version %i to the latest, keeping its data', async (from) => {
    const path = file();
    const raw = new Database(path);
    migrate(raw, from);
    for (let v = 1; v <= from; v++) SEED[v](raw);
    expect(raw.pragma('user_version', { simple: true })).toBe(from);
    raw.close();

    const store = openHubStore(path);
    try {
      const db = new Database(path, { readonly: true });
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      db.close();
      if (from >= 1) expect((await store.sites.get('s1'))?.name).toBe('store-1');
      if (from >= 2) {
        expect((await store.policies.latest())?.message).toBe('first');
        expect(await store.rollouts.nextGeneration('s1')).toBe(5);
      }
      if (from >= 3)
        expect(await store.telemetry.ingest({ siteId: 's1', device: '', seq: 7, type: 'verdicts', at: 'x', verdicts: [], counters: [] }, 2)).toBe(false);
      if (from >= 4) expect((await store.keys.list()).map((k) => k.keyId)).toEqual(['k1']);
      if (from >= 7) expect((await store.nodes.list('s1')).map((n) => n.name)).toEqual(['n1']);
      // Every table of the latest schema is usable.
      await store.sites.create('s2', { ...spec, name: 'store-2' }, 1);
      expect((await store.sites.list()).map((s) => s.id)).toContain('s2');
    } finally {
      await store.close();
    }
  });

  it('refuses a database written by a newer hub', () => {
    const path = file();
    const raw = new Database(path);
    raw.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    raw.close();
    expect(() => openDatabase(path)).toThrow(StoreError);
  });

  it('creates the file 0600 in WAL mode', () => {
    const path = file();
    const db = openDatabase(path);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});
