// The PostgreSQL NodesRepo: the same semantics as ../nodes-repo.ts (SQLite), held to the same contract.
import { nodeFromRow, type NodeRow } from '../nodes-repo.ts';
import type { NodeState, NodesRepo, SiteNodeRecord } from '../types.ts';
import type { Row, Sql } from './sql.ts';

type R = Row & NodeRow;

export class PgNodes implements NodesRepo {
  constructor(private readonly sql: Sql) {}

  async get(siteId: string, name: string): Promise<SiteNodeRecord | undefined> {
    const { rows } = await this.sql.query<R>('SELECT * FROM site_nodes WHERE site_id = $1 AND name = $2', [siteId, name]);
    return rows[0] && nodeFromRow(rows[0]);
  }

  async list(siteId: string): Promise<SiteNodeRecord[]> {
    const { rows } = await this.sql.query<R>('SELECT * FROM site_nodes WHERE site_id = $1 ORDER BY name', [siteId]);
    return rows.map(nodeFromRow);
  }

  async all(filter: { state?: NodeState } = {}): Promise<SiteNodeRecord[]> {
    const { rows } = filter.state
      ? await this.sql.query<R>('SELECT * FROM site_nodes WHERE state = $1 ORDER BY site_id, name', [filter.state])
      : await this.sql.query<R>('SELECT * FROM site_nodes ORDER BY site_id, name');
    return rows.map(nodeFromRow);
  }

  async put(n: Omit<SiteNodeRecord, 'appliedGeneration' | 'appliedAt' | 'revokedAt'>): Promise<void> {
    await this.sql.query(
      `INSERT INTO site_nodes (site_id, name, state, identity_key, wireguard_key, overlay_index, agent_version, enrolled_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
      ON CONFLICT (site_id, name) DO UPDATE SET state = excluded.state, identity_key = excluded.identity_key,
        wireguard_key = excluded.wireguard_key, overlay_index = excluded.overlay_index, agent_version = excluded.agent_version,
        enrolled_at = excluded.enrolled_at, revoked_at = NULL`,
      [n.siteId, n.name, n.state, n.identityKey, n.wireguardKey, n.overlayIndex, n.agentVersion, n.enrolledAt],
    );
  }

  async revoke(siteId: string, name: string, now: number): Promise<boolean> {
    const r = await this.sql.query(
      "UPDATE site_nodes SET state = 'revoked', revoked_at = $3, password_hash = NULL, pending_hash = NULL WHERE site_id = $1 AND name = $2 AND state != 'revoked'",
      [siteId, name, now],
    );
    return r.rowCount === 1;
  }

  async holdersOfWireguardKey(publicKey: string, except: { siteId: string; name: string } | null): Promise<string[]> {
    const { rows } = await this.sql.query<R>("SELECT site_id, name FROM site_nodes WHERE wireguard_key = $1 AND state != 'revoked' ORDER BY site_id, name", [
      publicKey,
    ]);
    return rows.filter((r) => !(except && r.site_id === except.siteId && r.name === except.name)).map((r) => `${r.site_id}.${r.name}`);
  }

  async setCredential(siteId: string, name: string, passwordHash: string): Promise<void> {
    await this.sql.query('UPDATE site_nodes SET password_hash = $3, pending_hash = NULL WHERE site_id = $1 AND name = $2', [siteId, name, passwordHash]);
  }

  async setPendingCredential(siteId: string, name: string, passwordHash: string): Promise<void> {
    await this.sql.query('UPDATE site_nodes SET pending_hash = $3 WHERE site_id = $1 AND name = $2', [siteId, name, passwordHash]);
  }

  async credentialHash(siteId: string, name: string): Promise<string | undefined> {
    const { rows } = await this.sql.query<Row>("SELECT password_hash FROM site_nodes WHERE site_id = $1 AND name = $2 AND state = 'enrolled'", [siteId, name]);
    return (rows[0]?.password_hash as string | null | undefined) ?? undefined;
  }

  async pendingCredentialHash(siteId: string, name: string): Promise<string | undefined> {
    const { rows } = await this.sql.query<Row>("SELECT pending_hash FROM site_nodes WHERE site_id = $1 AND name = $2 AND state = 'enrolled'", [siteId, name]);
    return (rows[0]?.pending_hash as string | null | undefined) ?? undefined;
  }

  async promoteCredential(siteId: string, name: string): Promise<void> {
    await this.sql.query(
      'UPDATE site_nodes SET password_hash = pending_hash, pending_hash = NULL WHERE site_id = $1 AND name = $2 AND pending_hash IS NOT NULL',
      [siteId, name],
    );
  }

  async recordApplied(siteId: string, name: string, generation: number, now: number): Promise<void> {
    await this.sql.query(
      'UPDATE site_nodes SET applied_generation = $3, applied_at = $4 WHERE site_id = $1 AND name = $2 AND (applied_generation IS NULL OR applied_generation < $3)',
      [siteId, name, generation, now],
    );
  }

  async setAgentVersion(siteId: string, name: string, version: string): Promise<void> {
    await this.sql.query('UPDATE site_nodes SET agent_version = $3 WHERE site_id = $1 AND name = $2', [siteId, name, version]);
  }
}
