// Declared site links on PostgreSQL: the same semantics as ../links-repo.ts.
import { linkFromRow } from '../links-repo.ts';
import type { LinkRecord, LinkSpec, LinksRepo } from '../types.ts';
import type { Sql } from './sql.ts';

interface Row {
  id: number;
  spec: string;
  created_by: string;
  created_at: number;
  [k: string]: unknown;
}

export class PgLinks implements LinksRepo {
  constructor(private readonly sql: Sql) {}

  async add(spec: LinkSpec, createdBy: string, now: number): Promise<LinkRecord> {
    const r = await this.sql.query<Row>('INSERT INTO site_links (spec, created_by, created_at) VALUES ($1, $2, $3) RETURNING id', [
      JSON.stringify(spec),
      createdBy,
      now,
    ]);
    return { id: Number(r.rows[0].id), spec, createdBy, createdAt: now };
  }

  async list(): Promise<LinkRecord[]> {
    return (await this.sql.query<Row>('SELECT * FROM site_links ORDER BY id')).rows.map(linkFromRow);
  }

  async get(id: number): Promise<LinkRecord | undefined> {
    const r = (await this.sql.query<Row>('SELECT * FROM site_links WHERE id = $1', [id])).rows[0];
    return r && linkFromRow(r);
  }

  async remove(id: number): Promise<boolean> {
    return ((await this.sql.query('DELETE FROM site_links WHERE id = $1', [id])).rowCount ?? 0) > 0;
  }
}
