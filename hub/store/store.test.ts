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
    // Seeds run after migrating to `from`: from 6 on, the table has the device column.
    const device = db.prepare("SELECT 1 FROM pragma_table_info('telemetry_batches') WHERE name = 'device'").get() !== undefined;
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
    db.prepare("INSERT INTO hub_nodes (name, wireguard_key, endpoint, overlay_index, seen_at) VALUES ('hub-a', 'k', 'h:1', 65534, 1)").run();
  },
  8: (db) => {
    db.prepare("INSERT INTO health_events (site_id, from_state, to_state, at, reason) VALUES ('s1', 'online', 'offline', 5, 'last will')").run();
  },
  9: (db) => {
    db.prepare(
      "INSERT INTO releases (version, kind, signed, sha256, size, min_hub_version, uploaded_by, uploaded_at) VALUES ('0.2.0', 'agent', '{}', 'ab', 1, '0.1.0', 'ops', 1)",
    ).run();
  },
  10: (db) => {
    db.prepare(`INSERT INTO site_links (spec, created_by, created_at) VALUES ('{"kind":"pair","a":"s1","b":"s2"}', 'ops', 1)`).run();
  },
  11: (db) => {
    db.prepare(
      "INSERT INTO site_nodes (site_id, name, state, identity_key, wireguard_key, overlay_index, enrolled_at) VALUES ('s1', 'n1', 'enrolled', 'ik', 'wk', 9, 1)",
    ).run();
  },
};

describe('hub store migrations', () => {
  // Up to the latest itself: its seeds (the newest tables) are read back through the store too.
  it.each(Array.from({ length: SCHEMA_VERSION + 1 }, (_, i) => i))('upgrades a database from version %i to the latest, keeping its data', async (from) => {
    const path = file();
    const raw = new Database(path);
    // Each version's rows are written at that version, as a hub running it would have.
    for (let v = 1; v <= from; v++) {
      migrate(raw, v);
      SEED[v](raw);
    }
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
      if (from >= 7) expect((await store.cluster.nodes()).map((n) => n.name)).toEqual(['hub-a']);
      if (from >= 8) expect((await store.health.list('s1', 10)).map((e) => e.reason)).toEqual(['last will']);
      if (from >= 9) expect((await store.updates.release('0.2.0', 'agent'))?.sha256).toBe('ab');
      if (from >= 10) expect((await store.links.list()).map((l) => l.spec)).toEqual([{ kind: 'pair', a: 's1', b: 's2' }]);
      if (from >= 11) expect((await store.nodes.list('s1')).map((n) => n.name)).toEqual(['n1']);
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
