// Which bundle-signing keys exist, which one signs, and which are still trusted.
import { stmt, type Db, type Sync } from './db.ts';
import type { KeysRepo, SigningKeyRecord } from './types.ts';

interface Row {
  key_id: string;
  public_key: string;
  created_at: number;
  activated_at: number | null;
  retired_at: number | null;
  untrusted_at: number | null;
}
const COLUMNS: Record<string, string> = { activatedAt: 'activated_at', retiredAt: 'retired_at', untrustedAt: 'untrusted_at' };

export class SqliteKeys implements Sync<KeysRepo> {
  constructor(private readonly db: Db) {}

  add(k: SigningKeyRecord): void {
    stmt(this.db, 'INSERT INTO signing_keys (key_id, public_key, created_at, activated_at, retired_at, untrusted_at) VALUES (?, ?, ?, ?, ?, ?)').run(
      k.keyId,
      k.publicKey,
      k.createdAt,
      k.activatedAt,
      k.retiredAt,
      k.untrustedAt,
    );
  }

  list(): SigningKeyRecord[] {
    return (stmt(this.db, 'SELECT * FROM signing_keys ORDER BY created_at, key_id').all() as Row[]).map((r) => ({
      keyId: r.key_id,
      publicKey: r.public_key,
      createdAt: r.created_at,
      activatedAt: r.activated_at,
      retiredAt: r.retired_at,
      untrustedAt: r.untrusted_at,
    }));
  }

  update(keyId: string, patch: Parameters<Sync<KeysRepo>['update']>[1]): void {
    const keys = Object.keys(patch);
    if (!keys.length) return;
    stmt(this.db, `UPDATE signing_keys SET ${keys.map((k) => `${COLUMNS[k]} = ?`).join(', ')} WHERE key_id = ?`).run(
      ...keys.map((k) => (patch as Record<string, unknown>)[k]),
      keyId,
    );
  }
}
