// Declared site links (hub/mesh/links.ts resolves them into the pairs that get peers).
import { stmt, type Db, type Sync } from './db.ts';
import type { LinkRecord, LinkSpec, LinksRepo } from './types.ts';

interface Row {
  id: number;
  spec: string;
  created_by: string;
  created_at: number;
}

export const linkFromRow = (r: { id: number; spec: string; created_by: string; created_at: number }): LinkRecord => ({
  id: Number(r.id),
  spec: JSON.parse(r.spec) as LinkSpec,
  createdBy: r.created_by,
  createdAt: Number(r.created_at),
});

export class SqliteLinks implements Sync<LinksRepo> {
  constructor(private readonly db: Db) {}

  add(spec: LinkSpec, createdBy: string, now: number): LinkRecord {
    const r = stmt(this.db, 'INSERT INTO site_links (spec, created_by, created_at) VALUES (?, ?, ?)').run(JSON.stringify(spec), createdBy, now);
    return { id: Number(r.lastInsertRowid), spec, createdBy, createdAt: now };
  }

  list(): LinkRecord[] {
    return (stmt(this.db, 'SELECT * FROM site_links ORDER BY id').all() as Row[]).map(linkFromRow);
  }

  get(id: number): LinkRecord | undefined {
    const r = stmt(this.db, 'SELECT * FROM site_links WHERE id = ?').get(id) as Row | undefined;
    return r && linkFromRow(r);
  }

  remove(id: number): boolean {
    return stmt(this.db, 'DELETE FROM site_links WHERE id = ?').run(id).changes > 0;
  }
}
