// Rollouts, their per-site progress, per-site generations, published bundles and acks.
import { stmt, type Db, type Sync } from './db.ts';
import type { AckRecord, BundleRecord, RolloutRecord, RolloutSite, RolloutsRepo, RolloutState, SiteRolloutSummary } from './types.ts';

interface RolloutRow {
  id: number;
  kind: 'rollout' | 'rollback';
  policy_version: number;
  selector: string;
  stages: string;
  audit_window_s: number;
  state: RolloutState;
  stage: number;
  stage_acked_at: number | null;
  reason: string | null;
  created_by: string;
  created_at: number;
  updated_at: number;
}
interface SiteRow {
  rollout_id: number;
  site_id: string;
  stage: number;
  policy_version: number;
  generation: number | null;
  published_at: number | null;
  result: 'applied' | 'rejected' | null;
  code: string | null;
  reason: string | null;
  acked_at: number | null;
}
interface BundleRow {
  site_id: string;
  generation: number;
  policy_version: number;
  rollout_id: number | null;
  bundle: string;
  created_at: number;
}
interface AckRow {
  site_id: string;
  generation: number;
  result: 'applied' | 'rejected';
  code: string | null;
  reason: string | null;
  at: string;
  received_at: number;
}

const rollout = (r: RolloutRow): RolloutRecord => ({
  id: r.id,
  kind: r.kind,
  policyVersion: r.policy_version,
  selector: JSON.parse(r.selector),
  stages: JSON.parse(r.stages),
  auditWindowS: r.audit_window_s,
  state: r.state,
  stage: r.stage,
  stageAckedAt: r.stage_acked_at,
  reason: r.reason,
  createdBy: r.created_by,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});
const site = (r: SiteRow): RolloutSite => ({
  rolloutId: r.rollout_id,
  siteId: r.site_id,
  stage: r.stage,
  policyVersion: r.policy_version,
  generation: r.generation,
  publishedAt: r.published_at,
  result: r.result,
  code: r.code,
  reason: r.reason,
  ackedAt: r.acked_at,
});
const bundle = (r: BundleRow): BundleRecord => ({
  siteId: r.site_id,
  generation: r.generation,
  policyVersion: r.policy_version,
  rolloutId: r.rollout_id,
  bundle: r.bundle,
  createdAt: r.created_at,
});
const COLUMNS: Record<string, string> = { state: 'state', stage: 'stage', stageAckedAt: 'stage_acked_at', reason: 'reason', updatedAt: 'updated_at' };

export class SqliteRollouts implements Sync<RolloutsRepo> {
  constructor(private readonly db: Db) {}

  create(r: Omit<RolloutRecord, 'id'>, sites: { siteId: string; stage: number; policyVersion: number }[]): number {
    const id = Number(
      stmt(
        this.db,
        `INSERT INTO rollouts (kind, policy_version, selector, stages, audit_window_s, state, stage,
      stage_acked_at, reason, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        r.kind,
        r.policyVersion,
        JSON.stringify(r.selector),
        JSON.stringify(r.stages),
        r.auditWindowS,
        r.state,
        r.stage,
        r.stageAckedAt,
        r.reason,
        r.createdBy,
        r.createdAt,
        r.updatedAt,
      ).lastInsertRowid,
    );
    const ins = stmt(this.db, 'INSERT INTO rollout_sites (rollout_id, site_id, stage, policy_version) VALUES (?, ?, ?, ?)');
    for (const s of sites) ins.run(id, s.siteId, s.stage, s.policyVersion);
    return id;
  }

  get(id: number): RolloutRecord | undefined {
    const r = stmt(this.db, 'SELECT * FROM rollouts WHERE id = ?').get(id) as RolloutRow | undefined;
    return r && rollout(r);
  }

  list(f: { state?: RolloutState; limit: number }): RolloutRecord[] {
    const rows = f.state
      ? stmt(this.db, 'SELECT * FROM rollouts WHERE state = ? ORDER BY id DESC LIMIT ?').all(f.state, f.limit)
      : stmt(this.db, 'SELECT * FROM rollouts ORDER BY id DESC LIMIT ?').all(f.limit);
    return (rows as RolloutRow[]).map(rollout);
  }

  update(id: number, patch: Parameters<Sync<RolloutsRepo>['update']>[1]): void {
    const keys = Object.keys(patch);
    if (!keys.length) return;
    stmt(this.db, `UPDATE rollouts SET ${keys.map((k) => `${COLUMNS[k]} = ?`).join(', ')} WHERE id = ?`).run(
      ...keys.map((k) => (patch as Record<string, unknown>)[k]),
      id,
    );
  }

  sites(id: number): RolloutSite[] {
    return (stmt(this.db, 'SELECT * FROM rollout_sites WHERE rollout_id = ? ORDER BY stage, site_id').all(id) as SiteRow[]).map(site);
  }

  liveSites(id: number, stage: number): RolloutSite[] {
    return (
      stmt(
        this.db,
        `SELECT rs.* FROM rollout_sites rs JOIN sites s ON s.id = rs.site_id
      WHERE rs.rollout_id = ? AND rs.stage = ? AND s.state = 'enrolled' ORDER BY rs.site_id`,
      ).all(id, stage) as SiteRow[]
    ).map(site);
  }

  stageCounts(id: number, stage: number): { total: number; applied: number } {
    const r = stmt(
      this.db,
      `SELECT COUNT(*) AS total, COALESCE(SUM(rs.result = 'applied'), 0) AS applied FROM rollout_sites rs
      JOIN sites s ON s.id = rs.site_id WHERE rs.rollout_id = ? AND rs.stage = ? AND s.state = 'enrolled'`,
    ).get(id, stage) as { total: number; applied: number };
    return r;
  }

  firstRejected(id: number): RolloutSite | undefined {
    const r = stmt(
      this.db,
      `SELECT rs.* FROM rollout_sites rs JOIN sites s ON s.id = rs.site_id
      WHERE rs.rollout_id = ? AND rs.result = 'rejected' AND s.state = 'enrolled' ORDER BY rs.acked_at LIMIT 1`,
    ).get(id) as SiteRow | undefined;
    return r && site(r);
  }

  pendingForSite(siteId: string): RolloutSite[] {
    return (
      stmt(
        this.db,
        `SELECT rs.* FROM rollout_sites rs JOIN rollouts r ON r.id = rs.rollout_id
      WHERE rs.site_id = ? AND rs.result IS NULL AND rs.generation IS NOT NULL AND r.state IN ('running', 'paused', 'completed')`,
      ).all(siteId) as SiteRow[]
    ).map(site);
  }

  join(id: number, siteId: string, stage: number, policyVersion: number): boolean {
    return (
      stmt(this.db, 'INSERT OR IGNORE INTO rollout_sites (rollout_id, site_id, stage, policy_version) VALUES (?, ?, ?, ?)').run(
        id,
        siteId,
        stage,
        policyVersion,
      ).changes > 0
    );
  }

  markPublished(id: number, siteId: string, generation: number, now: number): void {
    stmt(
      this.db,
      'UPDATE rollout_sites SET generation = ?, published_at = ?, result = NULL, code = NULL, reason = NULL, acked_at = NULL WHERE rollout_id = ? AND site_id = ?',
    ).run(generation, now, id, siteId);
  }

  recordAck(siteId: string, generation: number, result: 'applied' | 'rejected', code: string | null, reason: string | null, now: number): number[] {
    const rows = stmt(
      this.db,
      `SELECT rs.rollout_id FROM rollout_sites rs JOIN rollouts r ON r.id = rs.rollout_id
      WHERE rs.site_id = ? AND rs.generation = ? AND rs.result IS NULL AND r.state IN ('running', 'paused', 'completed')`,
    ).all(siteId, generation) as { rollout_id: number }[];
    const upd = stmt(this.db, 'UPDATE rollout_sites SET result = ?, code = ?, reason = ?, acked_at = ? WHERE rollout_id = ? AND site_id = ?');
    for (const r of rows) upd.run(result, code, reason, now, r.rollout_id, siteId);
    return rows.map((r) => r.rollout_id);
  }

  nextGeneration(siteId: string): number {
    const r = stmt(
      this.db,
      `INSERT INTO site_generations (site_id, generation) VALUES (?, 1)
      ON CONFLICT(site_id) DO UPDATE SET generation = generation + 1 RETURNING generation`,
    ).get(siteId) as { generation: number };
    return r.generation;
  }

  nextGenerations(siteIds: readonly string[]): number[] {
    // In-process SQLite: a prepared statement per site costs microseconds, no round trip to save.
    return siteIds.map((id) => this.nextGeneration(id));
  }

  addBundles(bs: readonly BundleRecord[]): void {
    // All or none, like PostgreSQL's one statement (a savepoint inside an open transaction).
    this.db.transaction(() => {
      for (const b of bs) this.addBundle(b);
    })();
  }

  markPublishedMany(id: number, rows: readonly { siteId: string; generation: number }[], now: number): void {
    for (const r of rows) this.markPublished(id, r.siteId, r.generation, now);
  }

  generation(siteId: string): number {
    const r = stmt(this.db, 'SELECT generation FROM site_generations WHERE site_id = ?').get(siteId) as { generation: number } | undefined;
    return r?.generation ?? 0;
  }

  addBundle(b: BundleRecord): void {
    stmt(this.db, 'INSERT INTO bundles (site_id, generation, policy_version, rollout_id, bundle, created_at) VALUES (?, ?, ?, ?, ?, ?)').run(
      b.siteId,
      b.generation,
      b.policyVersion,
      b.rolloutId,
      b.bundle,
      b.createdAt,
    );
  }

  latestBundle(siteId: string): BundleRecord | undefined {
    const r = stmt(this.db, 'SELECT * FROM bundles WHERE site_id = ? ORDER BY generation DESC LIMIT 1').get(siteId) as BundleRow | undefined;
    return r && bundle(r);
  }

  latestBundles(): BundleRecord[] {
    const rows = stmt(
      this.db,
      `SELECT b.* FROM bundles b JOIN sites s ON s.id = b.site_id AND s.state = 'enrolled'
      WHERE b.generation = (SELECT MAX(generation) FROM bundles WHERE site_id = b.site_id)`,
    ).all() as BundleRow[];
    return rows.map(bundle);
  }

  bundleBefore(siteId: string, generation: number): BundleRecord | undefined {
    const r = stmt(this.db, 'SELECT * FROM bundles WHERE site_id = ? AND generation < ? ORDER BY generation DESC LIMIT 1').get(siteId, generation) as
      | BundleRow
      | undefined;
    return r && bundle(r);
  }

  recordAcks(acks: readonly AckRecord[]): number[] {
    const touched = new Set<number>();
    for (const a of acks) {
      this.addAck(a);
      for (const id of this.recordAck(a.siteId, a.generation, a.result, a.code, a.reason, a.receivedAt)) touched.add(id);
    }
    return [...touched];
  }

  addAck(a: AckRecord): void {
    stmt(this.db, 'INSERT INTO acks (site_id, generation, result, code, reason, at, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
      a.siteId,
      a.generation,
      a.result,
      a.code,
      a.reason,
      a.at,
      a.receivedAt,
    );
  }

  siteSummaries(): Map<string, SiteRolloutSummary> {
    const out = new Map<string, SiteRolloutSummary>();
    const of = (id: string) => {
      let x = out.get(id);
      if (!x) out.set(id, (x = { generation: 0, policyVersion: null, lastAck: null }));
      return x;
    };
    for (const r of stmt(this.db, 'SELECT site_id, generation FROM site_generations').all() as { site_id: string; generation: number }[])
      of(r.site_id).generation = r.generation;
    // SQLite returns the other columns of the row holding the MAX() of each group.
    for (const r of stmt(this.db, 'SELECT site_id, policy_version, MAX(generation) FROM bundles GROUP BY site_id').all() as {
      site_id: string;
      policy_version: number;
    }[])
      of(r.site_id).policyVersion = r.policy_version;
    for (const r of stmt(this.db, 'SELECT *, MAX(id) FROM acks GROUP BY site_id').all() as AckRow[]) of(r.site_id).lastAck = ack(r);
    return out;
  }

  leaseEpoch(): number {
    return 0;
  }

  acks(siteId: string, limit: number): AckRecord[] {
    const rows = stmt(this.db, 'SELECT * FROM acks WHERE site_id = ? ORDER BY id DESC LIMIT ?').all(siteId, limit) as AckRow[];
    return rows.map(ack);
  }
}

const ack = (r: AckRow): AckRecord => ({
  siteId: r.site_id,
  generation: r.generation,
  result: r.result,
  code: r.code,
  reason: r.reason,
  at: r.at,
  receivedAt: r.received_at,
});
