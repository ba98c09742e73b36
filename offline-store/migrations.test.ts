// Every older schema an agent ever shipped is built from its snapshot, filled with data as that version
// wrote it, and migrated by openStore; the result must equal a freshly created store, with the data kept.
import Database from 'better-sqlite3';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LATEST_VERSION, openStore } from './index.ts';
import { MIGRATIONS, SNAPSHOTS } from './schema.ts';
import { tempDirs } from './testing/tmp.ts';

const tmp = tempDirs('store-migrate');
afterAll(() => tmp.cleanup());

/** Columns and indexes of every table, in a form independent of how the CREATE text was written. */
function shape(db: Database.Database): unknown {
  const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as { name: string }[]).map(
    (t) => t.name,
  );
  return Object.fromEntries(
    tables.map((t) => [
      t,
      {
        columns: db.pragma(`table_xinfo(${t})`),
        indexes: (db.pragma(`index_list(${t})`) as { name: string; unique: number }[])
          .sort((a, b) => a.name.localeCompare(b.name))
          .map((i) => ({ name: i.name, unique: i.unique, cols: db.pragma(`index_info(${i.name})`) })),
      },
    ]),
  );
}

const ed = generateKeyPairSync('ed25519').privateKey.export({ format: 'der', type: 'pkcs8' });
const x = generateKeyPairSync('x25519').privateKey.export({ format: 'der', type: 'pkcs8' });
const enrollment = {
  siteId: 'shop-7',
  broker: { url: 'mqtt://10.99.0.1:1883', username: 'site-shop-7', password: 's3cret' },
  signingKeys: [{ keyId: 'k1', publicKey: 'AAAA' }],
  wireguard: {
    hubPublicKey: 'hub',
    hubEndpoint: 'hub:51820',
    addresses: ['10.99.0.2/32'],
    hubAddresses: ['10.99.0.1/32'],
    persistentKeepaliveS: 25,
    mtu: 1420,
  },
  hubCaFingerprint: 'AB:CD',
};

/** Writes rows the way the agent of version v wrote them (only the columns that version had). */
function fillAs(v: number, db: Database.Database): void {
  db.prepare(`INSERT INTO bundles (bytes, generation, received_at, applied_at, status) VALUES (?, 7, 1000, 1001, 'applied')`).run(Buffer.from('bundle-7'));
  db.prepare(`INSERT INTO state (name, value) VALUES ('lkg_bundle_id', 1)`).run();
  db.prepare(`INSERT INTO config (key, value) VALUES ('k', '"v"')`).run();
  db.prepare(`INSERT INTO identity (id, ed25519_pkcs8, x25519_pkcs8, created_at) VALUES (1, ?, ?, 5)`).run(ed, x);
  if (v === 1) {
    db.prepare(`INSERT INTO enrollment (id, site_id, doc, enrolled_at) VALUES (1, 'shop-7', ?, 6)`).run(JSON.stringify(enrollment));
  } else {
    const { hubCaFingerprint, ...doc } = enrollment;
    db.prepare(`INSERT INTO enrollment (id, site_id, doc, enrolled_at, hub_ca_fingerprint) VALUES (1, 'shop-7', ?, 6, ?)`).run(
      JSON.stringify(doc),
      hubCaFingerprint,
    );
    db.prepare(`UPDATE bundles SET sha256 = ? WHERE id = 1`).run(createHash('sha256').update('bundle-7').digest('hex'));
  }
  db.prepare(`INSERT INTO outbox (topic, payload, created_at) VALUES ('weft/v1/site/shop-7/ack', ?, 2000)`).run(Buffer.from('{"gen":7}'));
  // From v3 on the agent writes each record's byte size itself.
  if (v >= 3) db.prepare(`UPDATE outbox SET bytes = length(CAST(topic AS BLOB)) + length(payload)`).run();
}

function freshShape(): unknown {
  const path = join(tmp.make(), 'fresh.db');
  openStore(path).close();
  const db = new Database(path, { readonly: true });
  try {
    return shape(db);
  } finally {
    db.close();
  }
}

describe('schema migrations', () => {
  it('has a snapshot and a migration for every version up to the latest', () => {
    for (let v = 1; v <= LATEST_VERSION; v++) {
      expect(SNAPSHOTS[v], `snapshot v${v}`).toBeTypeOf('string');
      expect(MIGRATIONS[v], `migration v${v}`).toBeTypeOf('function');
    }
  });

  it('the latest snapshot is exactly what the migrations build', () => {
    const db = new Database(':memory:');
    db.exec(SNAPSHOTS[LATEST_VERSION]);
    expect(freshShape()).toEqual(shape(db));
    db.close();
  });

  it.each(Array.from({ length: LATEST_VERSION }, (_, i) => i))('migrates a store of version %i to the latest, keeping its data', (v) => {
    const path = join(tmp.make(), 'agent.db');
    if (v > 0) {
      const db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.exec(SNAPSHOTS[v]);
      db.pragma(`user_version = ${v}`);
      fillAs(v, db);
      db.close();
    }
    const store = openStore(path);
    try {
      expect(store.opened).toEqual(
        v === 0 ? { kind: 'created', schemaVersion: LATEST_VERSION } : { kind: 'opened', schemaVersion: LATEST_VERSION, migratedFrom: v },
      );
      const raw = new Database(path, { readonly: true });
      expect(shape(raw)).toEqual(freshShape());
      raw.close();
      if (v === 0) return;
      const lkg = store.bundles.lastKnownGood();
      expect(lkg).toMatchObject({ id: 1, generation: 7, status: 'applied', appliedAt: 1001, rejectCode: null });
      expect(lkg!.sha256).toBe(createHash('sha256').update('bundle-7').digest('hex'));
      expect(store.bundles.findBySha256(lkg!.sha256)?.id).toBe(1);
      expect(store.config.get('k')).toBe('v');
      const id = store.identity.get()!;
      expect(id.ed25519PrivateKey.export({ format: 'der', type: 'pkcs8' })).toEqual(ed);
      expect(store.identity.enrollment()).toMatchObject({ siteId: 'shop-7', hubCaFingerprint: 'AB:CD', broker: { password: 's3cret' } });
      // What older versions queued is kept as high priority and counted in the byte total.
      expect(store.outbox.peek(10)).toEqual([expect.objectContaining({ seq: 1, priority: 'high', createdAt: 2000 })]);
      expect(store.outbox.bytes()).toBe(Buffer.byteLength('weft/v1/site/shop-7/ack') + Buffer.byteLength('{"gen":7}'));
      expect(store.outbox.append('t', 'p', 'low').seq).toBe(2);
    } finally {
      store.close();
    }
  });

  it('a failing migration leaves the old version intact (one transaction)', () => {
    const path = join(tmp.make(), 'agent.db');
    const db = new Database(path);
    db.exec(SNAPSHOTS[2]);
    db.pragma('user_version = 2');
    db.exec('CREATE TABLE counters (x INTEGER)'); // v3 creates `counters`: this collision makes it fail
    db.close();
    expect(() => openStore(path)).toThrow(expect.objectContaining({ code: 'STORE_MIGRATION_FAILED' }));
    const after = new Database(path, { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(2);
    expect((after.pragma('table_info(outbox)') as { name: string }[]).map((c) => c.name)).not.toContain('priority');
    after.close();
  });
});
