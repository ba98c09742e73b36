// The PostgreSQL repos: the same semantics as the SQLite ones (../*-repo.ts), proven by one contract
// (../testing/contract.ts). Rows map to records exactly as there; SQL differs only where the dialects do
// (ON CONFLICT DO NOTHING for INSERT OR IGNORE, COUNT FILTER for SUM of a boolean, RETURNING for ids).
import type { VerdictRecord } from '../../../protocol/index.ts';
import { policyKey } from '../telemetry-repo.ts';
import { PgUpdates } from './updates-repo.ts';
import type {
  AckRecord,
  ApiTokenRecord,
  AuditEntry,
  AuditRepo,
  ClusterRepo,
  HubNodeRecord,
  SiteHealthRecord,
  BundleRecord,
  EnrollTokenRecord,
  FlowQuery,
  FlowRow,
  HealthEventRecord,
  HealthEventsRepo,
  KeysRepo,
  PoliciesRepo,
  PolicyVersion,
  RetentionCaps,
  RolloutRecord,
  RolloutSite,
  RolloutsRepo,
  RolloutState,
  SigningKeyRecord,
  SiteRecord,
  SiteSpec,
  SitesRepo,
  SiteRolloutSummary,
  SiteState,
  StoreRepos,
  TelemetryBatch,
  TelemetryRepo,
  TokensRepo,
} from '../types.ts';
import { PgLinks } from './links-repo.ts';
import { PgNodes } from './nodes.ts';
import type { Row, Sql } from './sql.ts';

type R = Row & Record<string, never>;
/** Advisory lock class of health-event recording (the second key is the site's hash); 'whev' in ASCII. */
const HEALTH_EVENTS_LOCK = 0x77686576;
const n = (v: unknown): number => v as number;
const nn = (v: unknown): number | null => (v === null ? null : (v as number));
const s = (v: unknown): string => v as string;
const sn = (v: unknown): string | null => (v === null ? null : (v as string));

/** `col = $k, ...` for a patch whose keys map to columns, and its values (placeholders from $2: $1 is the key). */
function setClause(patch: Record<string, unknown>, columns: Record<string, string>): { sql: string; values: unknown[] } {
  const keys = Object.keys(patch);
  return { sql: keys.map((k, i) => `${columns[k]} = $${i + 2}`).join(', '), values: keys.map((k) => patch[k]) };
}

const site = (r: R): SiteRecord => ({
  id: s(r.id),
  name: s(r.name),
  labels: JSON.parse(s(r.labels)),
  lat: n(r.lat),
  lon: n(r.lon),
  clientCidrs: JSON.parse(s(r.client_cidrs)),
  capacity: n(r.capacity),
  services: JSON.parse(s(r.services)),
  state: r.state as SiteState,
  drained: r.drained as boolean,
  identityKey: sn(r.identity_key),
  wireguardKey: sn(r.wireguard_key),
  overlayIndex: nn(r.overlay_index),
  createdAt: n(r.created_at),
  enrolledAt: nn(r.enrolled_at),
  revokedAt: nn(r.revoked_at),
});
const SITE_COLUMNS: Record<string, string> = {
  state: 'state',
  drained: 'drained',
  identityKey: 'identity_key',
  wireguardKey: 'wireguard_key',
  overlayIndex: 'overlay_index',
  enrolledAt: 'enrolled_at',
  revokedAt: 'revoked_at',
};

class PgSites implements SitesRepo {
  constructor(private readonly sql: Sql) {}

  async create(id: string, x: SiteSpec, now: number): Promise<SiteRecord> {
    const { rows } = await this.sql.query<R>(
      `INSERT INTO sites (id, name, labels, lat, lon, client_cidrs, capacity, services, created_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
      [id, x.name, JSON.stringify(x.labels), x.lat, x.lon, JSON.stringify(x.clientCidrs), x.capacity, JSON.stringify(x.services), now],
    );
    return site(rows[0]);
  }

  async get(id: string): Promise<SiteRecord | undefined> {
    const { rows } = await this.sql.query<R>('SELECT * FROM sites WHERE id = $1', [id]);
    return rows[0] && site(rows[0]);
  }

  async byName(name: string): Promise<SiteRecord | undefined> {
    const { rows } = await this.sql.query<R>('SELECT * FROM sites WHERE name = $1', [name]);
    return rows[0] && site(rows[0]);
  }

  async list(filter: { state?: SiteState } = {}): Promise<SiteRecord[]> {
    const { rows } = filter.state
      ? await this.sql.query<R>('SELECT * FROM sites WHERE state = $1 ORDER BY id', [filter.state])
      : await this.sql.query<R>('SELECT * FROM sites ORDER BY id');
    return rows.map(site);
  }

  async update(id: string, patch: Parameters<SitesRepo['update']>[1]): Promise<void> {
    const set = setClause(patch, SITE_COLUMNS);
    if (set.values.length) await this.sql.query(`UPDATE sites SET ${set.sql} WHERE id = $1`, [id, ...set.values]);
  }

  async state(id: string): Promise<SiteState | undefined> {
    const { rows } = await this.sql.query<R>('SELECT state FROM sites WHERE id = $1', [id]);
    return rows[0]?.state as SiteState | undefined;
  }

  async enrolledDevice(id: string): Promise<string | undefined> {
    const { rows } = await this.sql.query<R>("SELECT identity_key FROM sites WHERE id = $1 AND state = 'enrolled'", [id]);
    return rows[0] ? (sn(rows[0].identity_key) ?? '') : undefined;
  }

  async holdersOfWireguardKey(publicKey: string, exceptId: string): Promise<string[]> {
    const { rows } = await this.sql.query<R>("SELECT id FROM sites WHERE wireguard_key = $1 AND id != $2 AND state != 'revoked' ORDER BY id", [
      publicKey,
      exceptId,
    ]);
    return rows.map((r) => s(r.id));
  }

  async maxOverlayIndex(): Promise<number> {
    // Nodes of multi-node sites hold overlay addresses too: one pool for every tunnel peer.
    const { rows } = await this.sql.query<R>('SELECT GREATEST((SELECT MAX(overlay_index) FROM sites), (SELECT MAX(overlay_index) FROM site_nodes)) AS m');
    return nn(rows[0].m) ?? 0;
  }

  async usedOverlayIndexes(): Promise<Set<number>> {
    const { rows } = await this.sql.query<R>('SELECT overlay_index FROM sites WHERE overlay_index IS NOT NULL UNION SELECT overlay_index FROM site_nodes');
    return new Set(rows.map((r) => n(r.overlay_index)));
  }

  async setCredential(siteId: string, passwordHash: string, now: number): Promise<void> {
    await this.sql.query(
      `INSERT INTO site_credentials (site_id, password_hash, created_at) VALUES ($1, $2, $3)
      ON CONFLICT (site_id) DO UPDATE SET password_hash = excluded.password_hash, created_at = excluded.created_at, pending_hash = NULL`,
      [siteId, passwordHash, now],
    );
  }

  async setPendingCredential(siteId: string, passwordHash: string): Promise<void> {
    await this.sql.query('UPDATE site_credentials SET pending_hash = $2 WHERE site_id = $1', [siteId, passwordHash]);
  }

  async credentialHash(siteId: string): Promise<string | undefined> {
    const { rows } = await this.sql.query<R>('SELECT password_hash FROM site_credentials WHERE site_id = $1', [siteId]);
    return rows[0] ? s(rows[0].password_hash) : undefined;
  }

  async pendingCredentialHash(siteId: string): Promise<string | undefined> {
    const { rows } = await this.sql.query<R>('SELECT pending_hash FROM site_credentials WHERE site_id = $1', [siteId]);
    return sn(rows[0]?.pending_hash ?? null) ?? undefined;
  }

  async promoteCredential(siteId: string, now: number): Promise<void> {
    await this.sql.query(
      'UPDATE site_credentials SET password_hash = pending_hash, pending_hash = NULL, created_at = $2 WHERE site_id = $1 AND pending_hash IS NOT NULL',
      [siteId, now],
    );
  }

  async deleteCredential(siteId: string): Promise<void> {
    await this.sql.query('DELETE FROM site_credentials WHERE site_id = $1', [siteId]);
  }
}

const apiToken = (r: R): ApiTokenRecord => ({
  id: s(r.id),
  name: s(r.name),
  role: r.role as ApiTokenRecord['role'],
  createdAt: n(r.created_at),
  revokedAt: nn(r.revoked_at),
  expiresAt: nn(r.expires_at),
});

class PgTokens implements TokensRepo {
  constructor(private readonly sql: Sql) {}

  async addEnrollToken(t: EnrollTokenRecord & { createdBy: string }): Promise<void> {
    await this.sql.query(
      'INSERT INTO enroll_tokens (hash, site_id, created_at, expires_at, used_at, created_by, for_nodes, max_uses, uses) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
      [t.hash, t.siteId, t.createdAt, t.expiresAt, t.usedAt, t.createdBy, t.forNodes ?? false, t.maxUses ?? 1, t.uses ?? 0],
    );
  }

  async enrollToken(hash: string): Promise<EnrollTokenRecord | undefined> {
    const { rows } = await this.sql.query<R>('SELECT * FROM enroll_tokens WHERE hash = $1', [hash]);
    const r = rows[0];
    return (
      r && {
        hash: s(r.hash),
        siteId: s(r.site_id),
        createdAt: n(r.created_at),
        expiresAt: n(r.expires_at),
        usedAt: nn(r.used_at),
        forNodes: r.for_nodes as boolean,
        maxUses: n(r.max_uses),
        uses: n(r.uses),
      }
    );
  }

  async useEnrollToken(hash: string, now: number): Promise<boolean> {
    const sql =
      'UPDATE enroll_tokens SET uses = uses + 1, used_at = CASE WHEN uses + 1 >= max_uses THEN $2 ELSE used_at END WHERE hash = $1 AND used_at IS NULL AND uses < max_uses';
    return (await this.sql.query(sql, [hash, now])).rowCount === 1;
  }

  async invalidateSiteTokens(siteId: string, now: number): Promise<void> {
    await this.sql.query('UPDATE enroll_tokens SET used_at = $2 WHERE site_id = $1 AND used_at IS NULL AND NOT for_nodes', [siteId, now]);
  }

  addChallenge(hash: string, expiresAt: number, now: number, max: number): Promise<boolean> {
    return this.sql.atomic(async (q) => {
      await q.query('DELETE FROM enroll_challenges WHERE expires_at <= $1', [now]);
      const { rows } = await q.query<R>('SELECT COUNT(*) AS n FROM enroll_challenges');
      if (n(rows[0].n) >= max) return false;
      await q.query('INSERT INTO enroll_challenges (hash, expires_at) VALUES ($1, $2)', [hash, expiresAt]);
      return true;
    });
  }

  async hasChallenge(hash: string, now: number): Promise<boolean> {
    return (await this.sql.query('SELECT 1 FROM enroll_challenges WHERE hash = $1 AND expires_at > $2', [hash, now])).rows.length > 0;
  }

  async useChallenge(hash: string, now: number): Promise<boolean> {
    return (await this.sql.query('DELETE FROM enroll_challenges WHERE hash = $1 AND expires_at > $2', [hash, now])).rowCount === 1;
  }

  async addApiToken(t: ApiTokenRecord & { hash: string }): Promise<void> {
    await this.sql.query('INSERT INTO api_tokens (id, name, hash, role, created_at, revoked_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
      t.id,
      t.name,
      t.hash,
      t.role,
      t.createdAt,
      t.revokedAt,
      t.expiresAt,
    ]);
  }

  async apiToken(id: string): Promise<ApiTokenRecord | undefined> {
    const { rows } = await this.sql.query<R>('SELECT * FROM api_tokens WHERE id = $1', [id]);
    return rows[0] && apiToken(rows[0]);
  }

  async apiTokenByHash(hash: string): Promise<ApiTokenRecord | undefined> {
    const { rows } = await this.sql.query<R>('SELECT * FROM api_tokens WHERE hash = $1', [hash]);
    return rows[0] && apiToken(rows[0]);
  }

  async listApiTokens(): Promise<ApiTokenRecord[]> {
    return (await this.sql.query<R>('SELECT * FROM api_tokens ORDER BY created_at')).rows.map(apiToken);
  }

  async revokeApiToken(id: string, now: number): Promise<boolean> {
    return (await this.sql.query('UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL', [id, now])).rowCount === 1;
  }
}

class PgAudit implements AuditRepo {
  constructor(private readonly sql: Sql) {}

  async record(e: Omit<AuditEntry, 'id'>): Promise<void> {
    await this.sql.query('INSERT INTO audit (at, actor, action, target, details) VALUES ($1, $2, $3, $4, $5)', [
      e.at,
      e.actor,
      e.action,
      e.target,
      JSON.stringify(e.details ?? {}),
    ]);
  }

  async list(q: { target?: string; limit: number }): Promise<AuditEntry[]> {
    const { rows } = q.target
      ? await this.sql.query<R>('SELECT * FROM audit WHERE target = $1 ORDER BY id DESC LIMIT $2', [q.target, q.limit])
      : await this.sql.query<R>('SELECT * FROM audit ORDER BY id DESC LIMIT $1', [q.limit]);
    return rows.map((r) => ({ id: n(r.id), at: n(r.at), actor: s(r.actor), action: s(r.action), target: s(r.target), details: JSON.parse(s(r.details)) }));
  }
}

const policy = (r: R): PolicyVersion => ({
  version: n(r.version),
  yaml: s(r.yaml),
  objects: JSON.parse(s(r.objects)),
  author: s(r.author),
  message: s(r.message),
  createdAt: n(r.created_at),
});

class PgPolicies implements PoliciesRepo {
  constructor(private readonly sql: Sql) {}

  async add(v: Omit<PolicyVersion, 'version'>): Promise<number> {
    const { rows } = await this.sql.query<R>(
      'INSERT INTO policy_versions (yaml, objects, author, message, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING version',
      [v.yaml, JSON.stringify(v.objects), v.author, v.message, v.createdAt],
    );
    return n(rows[0].version);
  }

  async get(version: number): Promise<PolicyVersion | undefined> {
    const { rows } = await this.sql.query<R>('SELECT * FROM policy_versions WHERE version = $1', [version]);
    return rows[0] && policy(rows[0]);
  }

  async latest(): Promise<PolicyVersion | undefined> {
    const { rows } = await this.sql.query<R>('SELECT * FROM policy_versions ORDER BY version DESC LIMIT 1');
    return rows[0] && policy(rows[0]);
  }

  async history(limit: number): Promise<Omit<PolicyVersion, 'yaml' | 'objects'>[]> {
    const { rows } = await this.sql.query<R>('SELECT version, author, message, created_at FROM policy_versions ORDER BY version DESC LIMIT $1', [limit]);
    return rows.map((r) => ({ version: n(r.version), author: s(r.author), message: s(r.message), createdAt: n(r.created_at) }));
  }
}

const rollout = (r: R): RolloutRecord => ({
  id: n(r.id),
  kind: r.kind as RolloutRecord['kind'],
  policyVersion: n(r.policy_version),
  selector: JSON.parse(s(r.selector)),
  stages: JSON.parse(s(r.stages)),
  auditWindowS: n(r.audit_window_s),
  state: r.state as RolloutState,
  stage: n(r.stage),
  stageAckedAt: nn(r.stage_acked_at),
  reason: sn(r.reason),
  createdBy: s(r.created_by),
  createdAt: n(r.created_at),
  updatedAt: n(r.updated_at),
});
const rolloutSite = (r: R): RolloutSite => ({
  rolloutId: n(r.rollout_id),
  siteId: s(r.site_id),
  stage: n(r.stage),
  policyVersion: n(r.policy_version),
  generation: nn(r.generation),
  publishedAt: nn(r.published_at),
  result: r.result as RolloutSite['result'],
  code: sn(r.code),
  reason: sn(r.reason),
  ackedAt: nn(r.acked_at),
});
const bundle = (r: R): BundleRecord => ({
  siteId: s(r.site_id),
  generation: n(r.generation),
  policyVersion: n(r.policy_version),
  rolloutId: nn(r.rollout_id),
  bundle: s(r.bundle),
  createdAt: n(r.created_at),
});
const ROLLOUT_COLUMNS: Record<string, string> = { state: 'state', stage: 'stage', stageAckedAt: 'stage_acked_at', reason: 'reason', updatedAt: 'updated_at' };

const ack = (r: R): AckRecord => ({
  siteId: s(r.site_id),
  generation: n(r.generation),
  result: r.result as AckRecord['result'],
  code: sn(r.code),
  reason: sn(r.reason),
  at: s(r.at),
  receivedAt: n(r.received_at),
});

class PgRollouts implements RolloutsRepo {
  constructor(private readonly sql: Sql) {}

  create(r: Omit<RolloutRecord, 'id'>, sites: { siteId: string; stage: number; policyVersion: number }[]): Promise<number> {
    return this.sql.atomic(async (q) => {
      const { rows } = await q.query<R>(
        `INSERT INTO rollouts (kind, policy_version, selector, stages, audit_window_s, state, stage, stage_acked_at, reason, created_by, created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
        [
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
        ],
      );
      const id = n(rows[0].id);
      // One statement for every site: a stage may hold thousands.
      if (sites.length) {
        await q.query(
          `INSERT INTO rollout_sites (rollout_id, site_id, stage, policy_version)
          SELECT $1, * FROM unnest($2::text[], $3::int[], $4::int[])`,
          [id, sites.map((x) => x.siteId), sites.map((x) => x.stage), sites.map((x) => x.policyVersion)],
        );
      }
      return id;
    });
  }

  async get(id: number): Promise<RolloutRecord | undefined> {
    const { rows } = await this.sql.query<R>('SELECT * FROM rollouts WHERE id = $1', [id]);
    return rows[0] && rollout(rows[0]);
  }

  async list(f: { state?: RolloutState; limit: number }): Promise<RolloutRecord[]> {
    const { rows } = f.state
      ? await this.sql.query<R>('SELECT * FROM rollouts WHERE state = $1 ORDER BY id DESC LIMIT $2', [f.state, f.limit])
      : await this.sql.query<R>('SELECT * FROM rollouts ORDER BY id DESC LIMIT $1', [f.limit]);
    return rows.map(rollout);
  }

  async update(id: number, patch: Parameters<RolloutsRepo['update']>[1]): Promise<void> {
    const set = setClause(patch, ROLLOUT_COLUMNS);
    if (set.values.length) await this.sql.query(`UPDATE rollouts SET ${set.sql} WHERE id = $1`, [id, ...set.values]);
  }

  async sites(id: number): Promise<RolloutSite[]> {
    return (await this.sql.query<R>('SELECT * FROM rollout_sites WHERE rollout_id = $1 ORDER BY stage, site_id', [id])).rows.map(rolloutSite);
  }

  async liveSites(id: number, stage: number): Promise<RolloutSite[]> {
    const { rows } = await this.sql.query<R>(
      `SELECT rs.* FROM rollout_sites rs JOIN sites s ON s.id = rs.site_id
      WHERE rs.rollout_id = $1 AND rs.stage = $2 AND s.state = 'enrolled' ORDER BY rs.site_id`,
      [id, stage],
    );
    return rows.map(rolloutSite);
  }

  async stageApplied(id: number, stage: number): Promise<boolean> {
    const { rows } = await this.sql.query<R>(
      `SELECT NOT EXISTS (SELECT 1 FROM rollout_sites rs JOIN sites s ON s.id = rs.site_id
      WHERE rs.rollout_id = $1 AND rs.stage = $2 AND s.state = 'enrolled' AND (rs.result IS NULL OR rs.result <> 'applied')) AS done`,
      [id, stage],
    );
    return rows[0].done === true;
  }

  async firstRejected(id: number): Promise<RolloutSite | undefined> {
    const { rows } = await this.sql.query<R>(
      `SELECT rs.* FROM rollout_sites rs JOIN sites s ON s.id = rs.site_id
      WHERE rs.rollout_id = $1 AND rs.result = 'rejected' AND s.state = 'enrolled' ORDER BY rs.acked_at LIMIT 1`,
      [id],
    );
    return rows[0] && rolloutSite(rows[0]);
  }

  async pendingForSite(siteId: string): Promise<RolloutSite[]> {
    const { rows } = await this.sql.query<R>(
      `SELECT rs.* FROM rollout_sites rs JOIN rollouts r ON r.id = rs.rollout_id
      WHERE rs.site_id = $1 AND rs.result IS NULL AND rs.generation IS NOT NULL AND r.state IN ('running', 'paused', 'completed')`,
      [siteId],
    );
    return rows.map(rolloutSite);
  }

  async join(id: number, siteId: string, stage: number, policyVersion: number): Promise<boolean> {
    const r = await this.sql.query('INSERT INTO rollout_sites (rollout_id, site_id, stage, policy_version) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [
      id,
      siteId,
      stage,
      policyVersion,
    ]);
    return r.rowCount > 0;
  }

  async markPublished(id: number, siteId: string, generation: number, now: number): Promise<void> {
    await this.sql.query(
      'UPDATE rollout_sites SET generation = $3, published_at = $4, result = NULL, code = NULL, reason = NULL, acked_at = NULL WHERE rollout_id = $1 AND site_id = $2',
      [id, siteId, generation, now],
    );
  }

  async recordAck(
    siteId: string,
    generation: number,
    result: 'applied' | 'rejected',
    code: string | null,
    reason: string | null,
    now: number,
  ): Promise<number[]> {
    // One statement: the row lock makes a concurrent second ack of the same generation find result set.
    const { rows } = await this.sql.query<R>(
      `UPDATE rollout_sites rs SET result = $3, code = $4, reason = $5, acked_at = $6 FROM rollouts r
      WHERE r.id = rs.rollout_id AND rs.site_id = $1 AND rs.generation = $2 AND rs.result IS NULL AND r.state IN ('running', 'paused', 'completed')
      RETURNING rs.rollout_id`,
      [siteId, generation, result, code, reason, now],
    );
    return rows.map((r) => n(r.rollout_id));
  }

  async nextGeneration(siteId: string): Promise<number> {
    const { rows } = await this.sql.query<R>(
      `INSERT INTO site_generations (site_id, generation) VALUES ($1, 1)
      ON CONFLICT (site_id) DO UPDATE SET generation = site_generations.generation + 1 RETURNING generation`,
      [siteId],
    );
    return n(rows[0].generation);
  }

  async nextGenerations(siteIds: readonly string[]): Promise<number[]> {
    if (!siteIds.length) return [];
    // One round trip for a whole stage; each site appears once (ON CONFLICT may touch a row only once).
    const { rows } = await this.sql.query<R>(
      `INSERT INTO site_generations (site_id, generation) SELECT unnest($1::text[]), 1
      ON CONFLICT (site_id) DO UPDATE SET generation = site_generations.generation + 1 RETURNING site_id, generation`,
      [siteIds],
    );
    const by = new Map(rows.map((r) => [String(r.site_id), n(r.generation)]));
    return siteIds.map((id) => by.get(id)!);
  }

  async addBundles(bs: readonly BundleRecord[]): Promise<void> {
    if (!bs.length) return;
    await this.sql.query(
      `INSERT INTO bundles (site_id, generation, policy_version, rollout_id, bundle, created_at)
      SELECT * FROM unnest($1::text[], $2::int[], $3::int[], $4::int[], $5::text[], $6::bigint[])`,
      [
        bs.map((b) => b.siteId),
        bs.map((b) => b.generation),
        bs.map((b) => b.policyVersion),
        bs.map((b) => b.rolloutId),
        bs.map((b) => b.bundle),
        bs.map((b) => b.createdAt),
      ],
    );
  }

  async markPublishedMany(id: number, rows: readonly { siteId: string; generation: number }[], now: number): Promise<void> {
    if (!rows.length) return;
    await this.sql.query(
      `UPDATE rollout_sites rs SET generation = u.generation, published_at = $2, result = NULL, code = NULL, reason = NULL, acked_at = NULL
      FROM unnest($3::text[], $4::int[]) AS u(site_id, generation) WHERE rs.rollout_id = $1 AND rs.site_id = u.site_id`,
      [id, now, rows.map((r) => r.siteId), rows.map((r) => r.generation)],
    );
  }

  async generation(siteId: string): Promise<number> {
    const { rows } = await this.sql.query<R>('SELECT generation FROM site_generations WHERE site_id = $1', [siteId]);
    return rows[0] ? n(rows[0].generation) : 0;
  }

  async addBundle(b: BundleRecord): Promise<void> {
    await this.sql.query('INSERT INTO bundles (site_id, generation, policy_version, rollout_id, bundle, created_at) VALUES ($1, $2, $3, $4, $5, $6)', [
      b.siteId,
      b.generation,
      b.policyVersion,
      b.rolloutId,
      b.bundle,
      b.createdAt,
    ]);
  }

  async latestBundle(siteId: string): Promise<BundleRecord | undefined> {
    const { rows } = await this.sql.query<R>('SELECT * FROM bundles WHERE site_id = $1 ORDER BY generation DESC LIMIT 1', [siteId]);
    return rows[0] && bundle(rows[0]);
  }

  async latestBundles(): Promise<BundleRecord[]> {
    const { rows } = await this.sql.query<R>(
      `SELECT DISTINCT ON (b.site_id) b.* FROM bundles b JOIN sites s ON s.id = b.site_id AND s.state = 'enrolled'
      ORDER BY b.site_id, b.generation DESC`,
    );
    return rows.map(bundle);
  }

  async bundleBefore(siteId: string, generation: number): Promise<BundleRecord | undefined> {
    const { rows } = await this.sql.query<R>('SELECT * FROM bundles WHERE site_id = $1 AND generation < $2 ORDER BY generation DESC LIMIT 1', [
      siteId,
      generation,
    ]);
    return rows[0] && bundle(rows[0]);
  }

  async recordAcks(acks: readonly AckRecord[]): Promise<number[]> {
    if (!acks.length) return [];
    const col = <K extends keyof AckRecord>(k: K) => acks.map((a) => a[k]);
    await this.sql.query(
      `INSERT INTO acks (site_id, generation, result, code, reason, at, received_at)
      SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[])`,
      [col('siteId'), col('generation'), col('result'), col('code'), col('reason'), col('at'), col('receivedAt')],
    );
    // The first ack of a site and generation counts (as one recordAck after another would have it).
    const seen = new Set<string>();
    const first = acks.filter((a) => {
      const k = `${a.siteId}\u0000${a.generation}`;
      return !seen.has(k) && seen.add(k);
    });
    const f = <K extends keyof AckRecord>(k: K) => first.map((a) => a[k]);
    const { rows } = await this.sql.query<R>(
      `UPDATE rollout_sites rs SET result = u.result, code = u.code, reason = u.reason, acked_at = u.received_at
      FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::bigint[]) AS u(site_id, generation, result, code, reason, received_at), rollouts r
      WHERE r.id = rs.rollout_id AND rs.site_id = u.site_id AND rs.generation = u.generation AND rs.result IS NULL
        AND r.state IN ('running', 'paused', 'completed')
      RETURNING rs.rollout_id`,
      [f('siteId'), f('generation'), f('result'), f('code'), f('reason'), f('receivedAt')],
    );
    return [...new Set(rows.map((r) => n(r.rollout_id)))];
  }

  async addAck(a: AckRecord): Promise<void> {
    await this.sql.query('INSERT INTO acks (site_id, generation, result, code, reason, at, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
      a.siteId,
      a.generation,
      a.result,
      a.code,
      a.reason,
      a.at,
      a.receivedAt,
    ]);
  }

  async leaseEpoch(): Promise<number> {
    const { rows } = await this.sql.query<R>("SELECT epoch FROM rollout_lease WHERE name = 'rollout' FOR SHARE");
    return rows[0] ? n(rows[0].epoch) : 0;
  }

  async acks(siteId: string, limit: number): Promise<AckRecord[]> {
    const { rows } = await this.sql.query<R>('SELECT * FROM acks WHERE site_id = $1 ORDER BY id DESC LIMIT $2', [siteId, limit]);
    return rows.map(ack);
  }

  async siteSummaries(): Promise<Map<string, SiteRolloutSummary>> {
    const out = new Map<string, SiteRolloutSummary>();
    const of = (id: string) => {
      let x = out.get(id);
      if (!x) out.set(id, (x = { generation: 0, policyVersion: null, lastAck: null }));
      return x;
    };
    for (const r of (await this.sql.query<R>('SELECT site_id, generation FROM site_generations')).rows) of(s(r.site_id)).generation = n(r.generation);
    const latest = await this.sql.query<R>('SELECT DISTINCT ON (site_id) site_id, policy_version FROM bundles ORDER BY site_id, generation DESC');
    for (const r of latest.rows) of(s(r.site_id)).policyVersion = n(r.policy_version);
    for (const r of (await this.sql.query<R>('SELECT DISTINCT ON (site_id) * FROM acks ORDER BY site_id, id DESC')).rows) of(s(r.site_id)).lastAck = ack(r);
    return out;
  }
}

function parseTime(iso: string, fallback: number): number {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : fallback;
}

function where(q: Omit<FlowQuery, 'limit'>): { sql: string; args: unknown[] } {
  const conds: string[] = [];
  const args: unknown[] = [];
  const add = (cond: string, v: unknown) => {
    args.push(v);
    conds.push(cond.replace('?', `$${args.length}`));
  };
  if (q.siteId) add('site_id = ?', q.siteId);
  if (q.policy) add('policy = ?', q.policy);
  if (q.verdict) add('verdict = ?', q.verdict);
  if (q.since !== undefined) add('at >= ?', q.since);
  if (q.until !== undefined) add('at < ?', q.until);
  if (q.afterId !== undefined) add('id > ?', q.afterId);
  return { sql: conds.length ? `WHERE ${conds.join(' AND ')}` : '', args };
}

class PgTelemetry implements TelemetryRepo {
  constructor(private readonly sql: Sql) {}

  async ingestKeys(keys: readonly Omit<TelemetryBatch, 'verdicts' | 'counters'>[], now: number): Promise<boolean[]> {
    if (!keys.length) return [];
    // ON CONFLICT DO NOTHING also skips a key repeated within the statement: RETURNING names the fresh ones.
    const { rows } = await this.sql.query<R>(
      `INSERT INTO telemetry_batches (site_id, device, seq, type, at, received_at)
      SELECT u.*, $6::bigint FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[]) AS u
      ON CONFLICT DO NOTHING RETURNING site_id, device, seq`,
      [keys.map((k) => k.siteId), keys.map((k) => k.device), keys.map((k) => k.seq), keys.map((k) => k.type), keys.map((k) => k.at), now],
    );
    const fresh = new Set(rows.map((r) => `${r.site_id}\u0000${r.device}\u0000${r.seq}`));
    return keys.map((k) => fresh.delete(`${k.siteId}\u0000${k.device}\u0000${k.seq}`));
  }

  ingest(b: TelemetryBatch, now: number): Promise<boolean> {
    return this.sql.atomic(async (q) => {
      const fresh = await q.query(
        'INSERT INTO telemetry_batches (site_id, device, seq, type, at, received_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING',
        [b.siteId, b.device, b.seq, b.type, b.at, now],
      );
      if (fresh.rowCount !== 1) return false;
      const batchAt = parseTime(b.at, now);
      if (b.verdicts.length) {
        const col = <K extends keyof VerdictRecord>(k: K) => b.verdicts.map((r) => r[k]);
        await q.query(
          `INSERT INTO verdicts (site_id, node, seq, at, generation, endpoint, direction, verdict, proto, src, dst, sport, dport, policy, rule, count)
          SELECT $1, $16::text, $2, * FROM unnest($3::bigint[], $4::int[], $5::text[], $6::text[], $7::text[], $8::int[], $9::text[], $10::text[], $11::int[], $12::int[], $13::text[], $14::text[], $15::int[])`,
          [
            b.siteId,
            b.seq,
            b.verdicts.map((r) => parseTime(r.at, batchAt)),
            col('generation'),
            col('endpoint'),
            col('direction'),
            col('verdict'),
            col('proto'),
            col('src'),
            col('dst'),
            col('sport'),
            col('dport'),
            b.verdicts.map((r) => policyKey(r.policy)),
            b.verdicts.map((r) => r.policy?.rule ?? null),
            b.verdicts.map((r) => r.count ?? 1),
            b.node ?? null,
          ],
        );
      }
      if (b.counters.length) {
        await q.query(
          `INSERT INTO counters (site_id, seq, at, policy, rule, verdict, packets, bytes)
          SELECT $1, $2, $3, * FROM unnest($4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[])`,
          [
            b.siteId,
            b.seq,
            batchAt,
            b.counters.map((r) => policyKey(r.policy)),
            b.counters.map((r) => r.policy?.rule ?? null),
            b.counters.map((r) => r.verdict),
            b.counters.map((r) => r.packets),
            b.counters.map((r) => r.bytes),
          ],
        );
      }
      return true;
    });
  }

  async flows(q: FlowQuery): Promise<FlowRow[]> {
    const w = where(q);
    const order = q.afterId === undefined ? 'at DESC, id DESC' : 'id';
    const { rows } = await this.sql.query<R>(`SELECT * FROM verdicts ${w.sql} ORDER BY ${order} LIMIT $${w.args.length + 1}`, [...w.args, q.limit]);
    return rows.map((r) => ({
      id: n(r.id),
      siteId: s(r.site_id),
      node: sn(r.node),
      seq: n(r.seq),
      at: new Date(n(r.at)).toISOString(),
      generation: n(r.generation),
      endpoint: s(r.endpoint),
      direction: r.direction as FlowRow['direction'],
      verdict: r.verdict as FlowRow['verdict'],
      proto: n(r.proto),
      src: s(r.src),
      dst: s(r.dst),
      sport: n(r.sport),
      dport: n(r.dport),
      policy: sn(r.policy),
      rule: sn(r.rule),
      count: n(r.count),
    }));
  }

  async lastFlowId(): Promise<number> {
    const { rows } = await this.sql.query<R>('SELECT MAX(id) AS id FROM verdicts');
    return nn(rows[0].id) ?? 0;
  }

  async counters(q: Omit<FlowQuery, 'limit'>): ReturnType<TelemetryRepo['counters']> {
    const w = where(q);
    const { rows } = await this.sql.query<R>(
      `SELECT site_id, policy, verdict, SUM(packets) AS packets, SUM(bytes) AS bytes FROM counters ${w.sql}
      GROUP BY site_id, policy, verdict ORDER BY site_id, policy NULLS FIRST, verdict`,
      w.args,
    );
    return rows.map((r) => ({
      siteId: s(r.site_id),
      policy: sn(r.policy),
      verdict: r.verdict as FlowRow['verdict'],
      packets: n(r.packets),
      bytes: n(r.bytes),
    }));
  }

  prune(caps: RetentionCaps, now: number): Promise<number> {
    return this.sql.atomic(async (q) => {
      const cutoff = now - caps.maxAgeMs;
      let count = 0;
      for (const table of ['verdicts', 'counters']) {
        count += (await q.query(`DELETE FROM ${table} WHERE at < $1`, [cutoff])).rowCount;
        // Per site, keep the newest maxRowsPerSite rows.
        count += (
          await q.query(
            `DELETE FROM ${table} WHERE id IN (
            SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY site_id ORDER BY at DESC, id DESC) AS rn FROM ${table}) ranked WHERE rn > $1)`,
            [caps.maxRowsPerSite],
          )
        ).rowCount;
      }
      await q.query('DELETE FROM telemetry_batches WHERE received_at < $1', [cutoff]);
      return count;
    });
  }
}

const key = (r: R): SigningKeyRecord => ({
  keyId: s(r.key_id),
  publicKey: s(r.public_key),
  createdAt: n(r.created_at),
  activatedAt: nn(r.activated_at),
  retiredAt: nn(r.retired_at),
  untrustedAt: nn(r.untrusted_at),
});
const KEY_COLUMNS: Record<string, string> = { activatedAt: 'activated_at', retiredAt: 'retired_at', untrustedAt: 'untrusted_at' };

class PgKeys implements KeysRepo {
  constructor(private readonly sql: Sql) {}

  async add(k: SigningKeyRecord): Promise<void> {
    await this.sql.query('INSERT INTO signing_keys (key_id, public_key, created_at, activated_at, retired_at, untrusted_at) VALUES ($1, $2, $3, $4, $5, $6)', [
      k.keyId,
      k.publicKey,
      k.createdAt,
      k.activatedAt,
      k.retiredAt,
      k.untrustedAt,
    ]);
  }

  async list(): Promise<SigningKeyRecord[]> {
    return (await this.sql.query<R>('SELECT * FROM signing_keys ORDER BY created_at, key_id')).rows.map(key);
  }

  async update(keyId: string, patch: Parameters<KeysRepo['update']>[1]): Promise<void> {
    const set = setClause(patch, KEY_COLUMNS);
    if (set.values.length) await this.sql.query(`UPDATE signing_keys SET ${set.sql} WHERE key_id = $1`, [keyId, ...set.values]);
  }
}

class PgCluster implements ClusterRepo {
  constructor(private readonly sql: Sql) {}

  async upsertNode(x: HubNodeRecord): Promise<void> {
    await this.sql.query(
      `INSERT INTO hub_nodes (name, wireguard_key, endpoint, overlay_index, seen_at) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (name) DO UPDATE SET wireguard_key = excluded.wireguard_key, endpoint = excluded.endpoint, overlay_index = excluded.overlay_index, seen_at = excluded.seen_at`,
      [x.name, x.wireguardKey, x.endpoint, x.overlayIndex, x.seenAt],
    );
  }

  async nodes(): Promise<HubNodeRecord[]> {
    return (await this.sql.query<R>('SELECT * FROM hub_nodes ORDER BY name')).rows.map((r) => ({
      name: s(r.name),
      wireguardKey: s(r.wireguard_key),
      endpoint: s(r.endpoint),
      overlayIndex: n(r.overlay_index),
      seenAt: n(r.seen_at),
    }));
  }

  async removeNode(name: string): Promise<boolean> {
    return (await this.sql.query('DELETE FROM hub_nodes WHERE name = $1', [name])).rowCount > 0;
  }

  async putHealth(h: SiteHealthRecord): Promise<void> {
    await this.sql.query(
      `INSERT INTO site_health (site_id, health, reason, since, by) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (site_id) DO UPDATE SET health = excluded.health, reason = excluded.reason, since = excluded.since, by = excluded.by
      WHERE excluded.since >= site_health.since`,
      [h.siteId, h.health, h.reason, h.since, h.by],
    );
  }

  async health(): Promise<SiteHealthRecord[]> {
    return (await this.sql.query<R>('SELECT site_id, health, reason, since, by FROM site_health ORDER BY site_id')).rows.map((r) => ({
      siteId: s(r.site_id),
      health: s(r.health) as SiteHealthRecord['health'],
      reason: s(r.reason),
      since: n(r.since),
      by: s(r.by),
    }));
  }
}

class PgHealthEvents implements HealthEventsRepo {
  constructor(private readonly sql: Sql) {}

  async record(e: HealthEventRecord, opts: { dedupeMs: number; keep: number }): Promise<boolean> {
    // Held to the end of the caller's transaction: a second replica waits here, then sees this row.
    await this.sql.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [HEALTH_EVENTS_LOCK, e.siteId]);
    const { rows } = await this.sql.query<R>(
      'SELECT 1 FROM health_events WHERE site_id = $1 AND from_state = $2 AND to_state = $3 AND at BETWEEN $4 AND $5 LIMIT 1',
      [e.siteId, e.from, e.to, e.at - opts.dedupeMs, e.at + opts.dedupeMs],
    );
    if (rows.length) return false;
    await this.sql.query('INSERT INTO health_events (site_id, from_state, to_state, at, reason) VALUES ($1, $2, $3, $4, $5)', [
      e.siteId,
      e.from,
      e.to,
      e.at,
      e.reason,
    ]);
    await this.sql.query(
      'DELETE FROM health_events WHERE site_id = $1 AND id <= (SELECT id FROM health_events WHERE site_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)',
      [e.siteId, opts.keep],
    );
    return true;
  }

  async list(siteId: string, limit: number): Promise<HealthEventRecord[]> {
    const { rows } = await this.sql.query<R>('SELECT * FROM health_events WHERE site_id = $1 ORDER BY at DESC, id DESC LIMIT $2', [siteId, limit]);
    return rows.map((r) => ({ siteId: s(r.site_id), from: s(r.from_state), to: s(r.to_state), at: n(r.at), reason: s(r.reason) }));
  }
}

export function pgRepos(sql: Sql): StoreRepos {
  return {
    sites: new PgSites(sql),
    tokens: new PgTokens(sql),
    audit: new PgAudit(sql),
    policies: new PgPolicies(sql),
    rollouts: new PgRollouts(sql),
    telemetry: new PgTelemetry(sql),
    keys: new PgKeys(sql),
    cluster: new PgCluster(sql),
    health: new PgHealthEvents(sql),
    updates: new PgUpdates(sql),
    links: new PgLinks(sql),
    nodes: new PgNodes(sql),
  };
}
