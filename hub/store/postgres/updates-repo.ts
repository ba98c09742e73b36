// Releases and update rollouts on PostgreSQL (the SQL is shared with SQLite: ../updates-sql.ts).
import type { ReleaseRecord, SiteVersion, UpdateRolloutRecord, UpdatesRepo, UpdateSite } from '../types.ts';
import { fleetOf, pgText, releaseOf, releaseValues, reportValues, rolloutOf, rolloutValues, SQL, siteOf, updateSql } from '../updates-sql.ts';
import type { Sql } from './sql.ts';

export class PgUpdates implements UpdatesRepo {
  constructor(private readonly sql: Sql) {}

  private q(text: string, values: unknown[], sql: Sql = this.sql) {
    return sql.query(pgText(text), values);
  }

  async addRelease(r: ReleaseRecord): Promise<void> {
    await this.q(SQL.addRelease, releaseValues(r, r.complete));
  }

  async markReleaseComplete(version: string, kind: ReleaseRecord['kind']): Promise<void> {
    await this.q(SQL.completeRelease, [true, version, kind]);
  }

  async release(version: string, kind: ReleaseRecord['kind']): Promise<ReleaseRecord | undefined> {
    const { rows } = await this.q(SQL.release, [version, kind]);
    return rows[0] && releaseOf(rows[0]);
  }

  async releases(): Promise<ReleaseRecord[]> {
    return (await this.q(SQL.releases, [])).rows.map(releaseOf);
  }

  create(r: Omit<UpdateRolloutRecord, 'id'>, sites: { siteId: string; stage: number }[]): Promise<number> {
    return this.sql.atomic(async (tx) => {
      const id = Number((await this.q(SQL.create, rolloutValues(r), tx)).rows[0].id);
      for (const s of sites) await this.q(SQL.addSite, [id, s.siteId, s.stage], tx);
      return id;
    });
  }

  async get(id: number): Promise<UpdateRolloutRecord | undefined> {
    const { rows } = await this.q(SQL.get, [id]);
    return rows[0] && rolloutOf(rows[0]);
  }

  async list(limit: number): Promise<UpdateRolloutRecord[]> {
    return (await this.q(SQL.list, [limit])).rows.map(rolloutOf);
  }

  async update(id: number, patch: Parameters<UpdatesRepo['update']>[1]): Promise<void> {
    const u = updateSql(id, patch);
    if (u) await this.q(u.sql, u.values);
  }

  async sites(id: number): Promise<UpdateSite[]> {
    return (await this.q(SQL.sites, [id])).rows.map(siteOf);
  }

  async markPublished(id: number, siteId: string, now: number): Promise<void> {
    await this.q(SQL.markPublished, [now, id, siteId]);
  }

  recordReport(siteId: string, r: Parameters<UpdatesRepo['recordReport']>[1], now: number): Promise<boolean> {
    const v = reportValues(siteId, r, now);
    return this.sql.atomic(async (tx) => {
      await this.q(SQL.lastUpdate, v.version, tx);
      return (await this.q(SQL.report, v.row, tx)).rowCount > 0;
    });
  }

  async setSiteVersion(siteId: string, version: string, now: number): Promise<void> {
    await this.q(SQL.siteVersion, [siteId, version, now]);
  }

  async fleet(): Promise<SiteVersion[]> {
    return (await this.q(SQL.fleet, [])).rows.map(fleetOf);
  }
}
