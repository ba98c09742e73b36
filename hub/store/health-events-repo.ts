// Sites' health changes, for their timelines: deduplicated across hub replicas (each sees the same
// broker message and records it) and bounded per site.
import { stmt, type Db, type Sync } from './db.ts';
import type { HealthEventRecord, HealthEventsRepo } from './types.ts';

interface Row {
  site_id: string;
  from_state: string;
  to_state: string;
  at: number;
  reason: string;
}

export const healthEvent = (r: Row): HealthEventRecord => ({ siteId: r.site_id, from: r.from_state, to: r.to_state, at: r.at, reason: r.reason });

export class SqliteHealthEvents implements Sync<HealthEventsRepo> {
  constructor(private readonly db: Db) {}

  record(e: HealthEventRecord, opts: { dedupeMs: number; keep: number }): boolean {
    const seen = stmt(this.db, 'SELECT 1 FROM health_events WHERE site_id = ? AND from_state = ? AND to_state = ? AND at BETWEEN ? AND ? LIMIT 1').get(
      e.siteId,
      e.from,
      e.to,
      e.at - opts.dedupeMs,
      e.at + opts.dedupeMs,
    );
    if (seen) return false;
    stmt(this.db, 'INSERT INTO health_events (site_id, from_state, to_state, at, reason) VALUES (?, ?, ?, ?, ?)').run(e.siteId, e.from, e.to, e.at, e.reason);
    stmt(
      this.db,
      'DELETE FROM health_events WHERE site_id = ? AND id <= (SELECT id FROM health_events WHERE site_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)',
    ).run(e.siteId, e.siteId, opts.keep);
    return true;
  }

  list(siteId: string, limit: number): HealthEventRecord[] {
    const rows = stmt(this.db, 'SELECT * FROM health_events WHERE site_id = ? ORDER BY at DESC, id DESC LIMIT ?').all(siteId, limit) as Row[];
    return rows.map(healthEvent);
  }
}
