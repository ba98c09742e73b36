// The releases and update rollouts of issue 21 as SQL written once for both backends: `?` placeholders
// (SQLite's; pgText numbers them for PostgreSQL) and one row mapper each. The SQLite and PostgreSQL
// repos (updates-repo.ts, postgres/updates-repo.ts) are the thin sync and async doors over them.
import type { ReleaseRecord, SiteVersion, UpdateRolloutRecord, UpdateSite } from './types.ts';

export type UpdateRow = Record<string, unknown>;

const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** `?` -> `$1, $2, ...` for PostgreSQL. */
export const pgText = (sql: string): string => {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
};

export const SQL = {
  addRelease:
    'INSERT INTO releases (version, kind, signed, sha256, size, min_hub_version, complete, uploaded_by, uploaded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  completeRelease: 'UPDATE releases SET complete = ? WHERE version = ? AND kind = ?',
  release: 'SELECT * FROM releases WHERE version = ? AND kind = ?',
  releases: 'SELECT * FROM releases ORDER BY uploaded_at DESC, version DESC',
  create:
    'INSERT INTO update_rollouts (version, kind, selector, stages, state, stage, stage_acked_at, reason, deadline_s, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id',
  addSite: 'INSERT INTO update_sites (rollout_id, site_id, stage) VALUES (?, ?, ?)',
  get: 'SELECT * FROM update_rollouts WHERE id = ?',
  list: 'SELECT * FROM update_rollouts ORDER BY id DESC LIMIT ?',
  sites: 'SELECT * FROM update_sites WHERE rollout_id = ? ORDER BY stage, site_id',
  markPublished: 'UPDATE update_sites SET published_at = ? WHERE rollout_id = ? AND site_id = ?',
  report: 'UPDATE update_sites SET result = ?, code = ?, reason = ?, reported_at = ? WHERE rollout_id = ? AND site_id = ? AND result IS NULL',
  lastUpdate: `INSERT INTO site_versions (site_id, version, last_rollout_id, last_version, last_state, last_code, last_reason, last_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (site_id) DO UPDATE SET version = excluded.version, last_rollout_id = excluded.last_rollout_id, last_version = excluded.last_version,
      last_state = excluded.last_state, last_code = excluded.last_code, last_reason = excluded.last_reason, last_at = excluded.last_at, updated_at = excluded.updated_at`,
  siteVersion: `INSERT INTO site_versions (site_id, version, updated_at) VALUES (?, ?, ?)
    ON CONFLICT (site_id) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at`,
  fleet: `SELECT s.id AS site_id, v.version, v.last_rollout_id, v.last_version, v.last_state, v.last_code, v.last_reason, v.last_at
    FROM sites s LEFT JOIN site_versions v ON v.site_id = s.id WHERE s.state = 'enrolled' ORDER BY s.id`,
};

export const UPDATE_COLUMNS: Record<string, string> = {
  state: 'state',
  stage: 'stage',
  stageAckedAt: 'stage_acked_at',
  reason: 'reason',
  updatedAt: 'updated_at',
};

/** `UPDATE update_rollouts SET a = ?, b = ? WHERE id = ?` for a patch, and its values. */
export function updateSql(id: number, patch: Record<string, unknown>): { sql: string; values: unknown[] } | null {
  const keys = Object.keys(patch);
  if (!keys.length) return null;
  return {
    sql: `UPDATE update_rollouts SET ${keys.map((k) => `${UPDATE_COLUMNS[k]} = ?`).join(', ')} WHERE id = ?`,
    values: [...keys.map((k) => patch[k]), id],
  };
}

export const releaseOf = (r: UpdateRow): ReleaseRecord => ({
  version: String(r.version),
  kind: r.kind as ReleaseRecord['kind'],
  signed: String(r.signed),
  sha256: String(r.sha256),
  size: num(r.size),
  minHubVersion: String(r.min_hub_version),
  complete: Boolean(r.complete),
  uploadedBy: String(r.uploaded_by),
  uploadedAt: num(r.uploaded_at),
});

export const releaseValues = (r: ReleaseRecord, complete: unknown): unknown[] => [
  r.version,
  r.kind,
  r.signed,
  r.sha256,
  r.size,
  r.minHubVersion,
  complete,
  r.uploadedBy,
  r.uploadedAt,
];

export const rolloutOf = (r: UpdateRow): UpdateRolloutRecord => ({
  id: num(r.id),
  version: String(r.version),
  kind: r.kind as UpdateRolloutRecord['kind'],
  selector: JSON.parse(String(r.selector)),
  stages: JSON.parse(String(r.stages)),
  state: r.state as UpdateRolloutRecord['state'],
  stage: num(r.stage),
  stageAckedAt: numOrNull(r.stage_acked_at),
  reason: strOrNull(r.reason),
  deadlineS: num(r.deadline_s),
  createdBy: String(r.created_by),
  createdAt: num(r.created_at),
  updatedAt: num(r.updated_at),
});

export const rolloutValues = (r: Omit<UpdateRolloutRecord, 'id'>): unknown[] => [
  r.version,
  r.kind,
  JSON.stringify(r.selector),
  JSON.stringify(r.stages),
  r.state,
  r.stage,
  r.stageAckedAt,
  r.reason,
  r.deadlineS,
  r.createdBy,
  r.createdAt,
  r.updatedAt,
];

export const siteOf = (r: UpdateRow): UpdateSite => ({
  rolloutId: num(r.rollout_id),
  siteId: String(r.site_id),
  stage: num(r.stage),
  publishedAt: numOrNull(r.published_at),
  result: (r.result ?? null) as UpdateSite['result'],
  code: strOrNull(r.code),
  reason: strOrNull(r.reason),
  reportedAt: numOrNull(r.reported_at),
});

export const fleetOf = (r: UpdateRow): SiteVersion => ({
  siteId: String(r.site_id),
  version: strOrNull(r.version),
  lastUpdate:
    r.last_version === null || r.last_version === undefined
      ? null
      : {
          rolloutId: num(r.last_rollout_id),
          version: String(r.last_version),
          state: String(r.last_state),
          code: strOrNull(r.last_code),
          reason: strOrNull(r.last_reason),
          at: num(r.last_at),
        },
});

/** What a site's report writes: its row's result, and its version (the new one only when blessed). */
export function reportValues(
  siteId: string,
  r: { rolloutId: number; version: string; from: string; state: string; code: string | null; reason: string | null },
  now: number,
): { row: unknown[]; version: unknown[] } {
  const result = r.state === 'blessed' ? 'blessed' : 'failed';
  return {
    row: [result, r.code, r.reason, now, r.rolloutId, siteId],
    version: [siteId, r.state === 'blessed' ? r.version : r.from, r.rolloutId, r.version, r.state, r.code, r.reason, now, now],
  };
}
