// Enrollment tokens and ops API tokens; both stored only as hashes.
import { stmt, type Db, type Sync } from './db.ts';
import type { ApiTokenRecord, EnrollTokenRecord, Role, TokensRepo } from './types.ts';

interface EnrollRow {
  hash: string;
  site_id: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  for_nodes: number;
  max_uses: number;
  uses: number;
}
interface ApiRow {
  id: string;
  name: string;
  role: Role;
  created_at: number;
  revoked_at: number | null;
  expires_at: number | null;
}

const api = (r: ApiRow): ApiTokenRecord => ({
  id: r.id,
  name: r.name,
  role: r.role,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
  expiresAt: r.expires_at,
});

export class SqliteTokens implements Sync<TokensRepo> {
  constructor(private readonly db: Db) {}

  addEnrollToken(t: EnrollTokenRecord & { createdBy: string }): void {
    stmt(
      this.db,
      'INSERT INTO enroll_tokens (hash, site_id, created_at, expires_at, used_at, created_by, for_nodes, max_uses, uses) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ).run(t.hash, t.siteId, t.createdAt, t.expiresAt, t.usedAt, t.createdBy, t.forNodes ? 1 : 0, t.maxUses ?? 1, t.uses ?? 0);
  }

  enrollToken(hash: string): EnrollTokenRecord | undefined {
    const r = stmt(this.db, 'SELECT * FROM enroll_tokens WHERE hash = ?').get(hash) as EnrollRow | undefined;
    return (
      r && {
        hash: r.hash,
        siteId: r.site_id,
        createdAt: r.created_at,
        expiresAt: r.expires_at,
        usedAt: r.used_at,
        forNodes: r.for_nodes === 1,
        maxUses: r.max_uses,
        uses: r.uses,
      }
    );
  }

  useEnrollToken(hash: string, now: number): boolean {
    // One use; the last one marks the token used (a one-time token's only use is its last).
    return (
      stmt(
        this.db,
        'UPDATE enroll_tokens SET uses = uses + 1, used_at = CASE WHEN uses + 1 >= max_uses THEN ? ELSE used_at END WHERE hash = ? AND used_at IS NULL AND uses < max_uses',
      ).run(now, hash).changes === 1
    );
  }

  invalidateSiteTokens(siteId: string, now: number): void {
    stmt(this.db, 'UPDATE enroll_tokens SET used_at = ? WHERE site_id = ? AND used_at IS NULL AND for_nodes = 0').run(now, siteId);
  }

  addChallenge(hash: string, expiresAt: number, now: number, max: number): boolean {
    stmt(this.db, 'DELETE FROM enroll_challenges WHERE expires_at <= ?').run(now);
    const { n } = stmt(this.db, 'SELECT COUNT(*) AS n FROM enroll_challenges').get() as { n: number };
    if (n >= max) return false;
    stmt(this.db, 'INSERT INTO enroll_challenges (hash, expires_at) VALUES (?, ?)').run(hash, expiresAt);
    return true;
  }

  hasChallenge(hash: string, now: number): boolean {
    return stmt(this.db, 'SELECT 1 FROM enroll_challenges WHERE hash = ? AND expires_at > ?').get(hash, now) !== undefined;
  }

  useChallenge(hash: string, now: number): boolean {
    return stmt(this.db, 'DELETE FROM enroll_challenges WHERE hash = ? AND expires_at > ?').run(hash, now).changes === 1;
  }

  addApiToken(t: ApiTokenRecord & { hash: string }): void {
    stmt(this.db, 'INSERT INTO api_tokens (id, name, hash, role, created_at, revoked_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
      t.id,
      t.name,
      t.hash,
      t.role,
      t.createdAt,
      t.revokedAt,
      t.expiresAt,
    );
  }

  apiToken(id: string): ApiTokenRecord | undefined {
    const r = stmt(this.db, 'SELECT * FROM api_tokens WHERE id = ?').get(id) as ApiRow | undefined;
    return r && api(r);
  }

  apiTokenByHash(hash: string): ApiTokenRecord | undefined {
    const r = stmt(this.db, 'SELECT * FROM api_tokens WHERE hash = ?').get(hash) as ApiRow | undefined;
    return r && api(r);
  }

  listApiTokens(): ApiTokenRecord[] {
    return (stmt(this.db, 'SELECT * FROM api_tokens ORDER BY created_at').all() as ApiRow[]).map(api);
  }

  revokeApiToken(id: string, now: number): boolean {
    return stmt(this.db, 'UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(now, id).changes === 1;
  }
}
