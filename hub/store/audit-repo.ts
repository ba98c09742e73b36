// The audit log: who changed what, when. Append-only.
import { stmt, type Db, type Sync } from './db.ts';
import type { AuditEntry, AuditRepo } from './types.ts';

export class SqliteAudit implements Sync<AuditRepo> {
  constructor(private readonly db: Db) {}

  record(e: Omit<AuditEntry, 'id'>): void {
    stmt(this.db, 'INSERT INTO audit (at, actor, action, target, details) VALUES (?, ?, ?, ?, ?)').run(
      e.at,
      e.actor,
      e.action,
      e.target,
      JSON.stringify(e.details ?? {}),
    );
  }

  list(q: { target?: string; limit: number }): AuditEntry[] {
    const rows = (
      q.target
        ? stmt(this.db, 'SELECT * FROM audit WHERE target = ? ORDER BY id DESC LIMIT ?').all(q.target, q.limit)
        : stmt(this.db, 'SELECT * FROM audit ORDER BY id DESC LIMIT ?').all(q.limit)
    ) as (Omit<AuditEntry, 'details'> & { details: string })[];
    return rows.map((r) => ({ ...r, details: JSON.parse(r.details) }));
  }
}
