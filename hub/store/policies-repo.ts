// Policy versions: the pushed YAML, its parsed objects, author and message.
import { stmt, type Db, type Sync } from './db.ts';
import type { PoliciesRepo, PolicyVersion } from './types.ts';

interface Row {
  version: number;
  yaml: string;
  objects: string;
  author: string;
  message: string;
  created_at: number;
}

const fromRow = (r: Row): PolicyVersion => ({
  version: r.version,
  yaml: r.yaml,
  objects: JSON.parse(r.objects),
  author: r.author,
  message: r.message,
  createdAt: r.created_at,
});

export class SqlitePolicies implements Sync<PoliciesRepo> {
  constructor(private readonly db: Db) {}

  add(v: Omit<PolicyVersion, 'version'>): number {
    const r = stmt(this.db, 'INSERT INTO policy_versions (yaml, objects, author, message, created_at) VALUES (?, ?, ?, ?, ?)').run(
      v.yaml,
      JSON.stringify(v.objects),
      v.author,
      v.message,
      v.createdAt,
    );
    return Number(r.lastInsertRowid);
  }

  get(version: number): PolicyVersion | undefined {
    const r = stmt(this.db, 'SELECT * FROM policy_versions WHERE version = ?').get(version) as Row | undefined;
    return r && fromRow(r);
  }

  latest(): PolicyVersion | undefined {
    const r = stmt(this.db, 'SELECT * FROM policy_versions ORDER BY version DESC LIMIT 1').get() as Row | undefined;
    return r && fromRow(r);
  }

  history(limit: number): Omit<PolicyVersion, 'yaml' | 'objects'>[] {
    const rows = stmt(this.db, 'SELECT version, author, message, created_at FROM policy_versions ORDER BY version DESC LIMIT ?').all(limit) as Row[];
    return rows.map((r) => ({ version: r.version, author: r.author, message: r.message, createdAt: r.created_at }));
  }
}
