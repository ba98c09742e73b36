// Releases and update rollouts on SQLite (the SQL is shared with PostgreSQL: updates-sql.ts).
import { stmt, type Db, type Sync } from './db.ts';
import type { ReleaseRecord, SiteVersion, UpdateRolloutRecord, UpdatesRepo, UpdateSite } from './types.ts';
import { fleetOf, releaseOf, releaseValues, reportValues, rolloutOf, rolloutValues, SQL, siteOf, updateSql, type UpdateRow } from './updates-sql.ts';

export class SqliteUpdates implements Sync<UpdatesRepo> {
  constructor(private readonly db: Db) {}

  addRelease(r: ReleaseRecord): void {
    stmt(this.db, SQL.addRelease).run(...releaseValues(r, r.complete ? 1 : 0));
  }

  markReleaseComplete(version: string, kind: ReleaseRecord['kind']): void {
    stmt(this.db, SQL.completeRelease).run(1, version, kind);
  }

  release(version: string, kind: ReleaseRecord['kind']): ReleaseRecord | undefined {
    const r = stmt(this.db, SQL.release).get(version, kind) as UpdateRow | undefined;
    return r && releaseOf(r);
  }

  releases(): ReleaseRecord[] {
    return (stmt(this.db, SQL.releases).all() as UpdateRow[]).map(releaseOf);
  }

  create(r: Omit<UpdateRolloutRecord, 'id'>, sites: { siteId: string; stage: number }[]): number {
    return this.db.transaction(() => {
      const { id } = stmt(this.db, SQL.create).get(...rolloutValues(r)) as { id: number };
      const add = stmt(this.db, SQL.addSite);
      for (const s of sites) add.run(id, s.siteId, s.stage);
      return id;
    })();
  }

  get(id: number): UpdateRolloutRecord | undefined {
    const r = stmt(this.db, SQL.get).get(id) as UpdateRow | undefined;
    return r && rolloutOf(r);
  }

  list(limit: number): UpdateRolloutRecord[] {
    return (stmt(this.db, SQL.list).all(limit) as UpdateRow[]).map(rolloutOf);
  }

  update(id: number, patch: Parameters<Sync<UpdatesRepo>['update']>[1]): void {
    const u = updateSql(id, patch);
    if (u) stmt(this.db, u.sql).run(...u.values);
  }

  sites(id: number): UpdateSite[] {
    return (stmt(this.db, SQL.sites).all(id) as UpdateRow[]).map(siteOf);
  }

  markPublished(id: number, siteId: string, now: number): void {
    stmt(this.db, SQL.markPublished).run(now, id, siteId);
  }

  recordReport(siteId: string, r: Parameters<Sync<UpdatesRepo>['recordReport']>[1], now: number): boolean {
    const v = reportValues(siteId, r, now);
    return this.db.transaction(() => {
      stmt(this.db, SQL.lastUpdate).run(...v.version);
      return stmt(this.db, SQL.report).run(...v.row).changes > 0;
    })();
  }

  setSiteVersion(siteId: string, version: string, now: number): void {
    stmt(this.db, SQL.siteVersion).run(siteId, version, now);
  }

  fleet(): SiteVersion[] {
    return (stmt(this.db, SQL.fleet).all() as UpdateRow[]).map(fleetOf);
  }
}
