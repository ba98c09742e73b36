// The nodes of multi-node sites (issue 19): each node's device identity, tunnel peer, overlay address,
// broker credential and the newest generation it applied. A one-device site has no rows here.
import { stmt, type Db, type Sync } from './db.ts';
import type { NodeState, NodesRepo, SiteNodeRecord } from './types.ts';

export interface NodeRow {
  site_id: string;
  name: string;
  state: NodeState;
  identity_key: string;
  wireguard_key: string;
  overlay_index: number;
  agent_version: string | null;
  enrolled_at: number;
  revoked_at: number | null;
  applied_generation: number | null;
  applied_at: number | null;
}

/** Shared by the SQLite and PostgreSQL repos (PostgreSQL's BIGINTs arrive as strings). */
export function nodeFromRow(r: NodeRow): SiteNodeRecord {
  const n = (v: number | string | null) => (v === null ? null : Number(v));
  return {
    siteId: r.site_id,
    name: r.name,
    state: r.state,
    identityKey: r.identity_key,
    wireguardKey: r.wireguard_key,
    overlayIndex: Number(r.overlay_index),
    agentVersion: r.agent_version,
    enrolledAt: Number(r.enrolled_at),
    revokedAt: n(r.revoked_at),
    appliedGeneration: n(r.applied_generation),
    appliedAt: n(r.applied_at),
  };
}

export class SqliteNodes implements Sync<NodesRepo> {
  constructor(private readonly db: Db) {}

  get(siteId: string, name: string): SiteNodeRecord | undefined {
    const r = stmt(this.db, 'SELECT * FROM site_nodes WHERE site_id = ? AND name = ?').get(siteId, name) as NodeRow | undefined;
    return r && nodeFromRow(r);
  }

  list(siteId: string): SiteNodeRecord[] {
    return (stmt(this.db, 'SELECT * FROM site_nodes WHERE site_id = ? ORDER BY name').all(siteId) as NodeRow[]).map(nodeFromRow);
  }

  all(filter: { state?: NodeState } = {}): SiteNodeRecord[] {
    const rows = filter.state
      ? stmt(this.db, 'SELECT * FROM site_nodes WHERE state = ? ORDER BY site_id, name').all(filter.state)
      : stmt(this.db, 'SELECT * FROM site_nodes ORDER BY site_id, name').all();
    return (rows as NodeRow[]).map(nodeFromRow);
  }

  put(n: Omit<SiteNodeRecord, 'appliedGeneration' | 'appliedAt' | 'revokedAt'>): void {
    stmt(
      this.db,
      `INSERT INTO site_nodes (site_id, name, state, identity_key, wireguard_key, overlay_index, agent_version, enrolled_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT(site_id, name) DO UPDATE SET state = excluded.state, identity_key = excluded.identity_key,
        wireguard_key = excluded.wireguard_key, overlay_index = excluded.overlay_index, agent_version = excluded.agent_version,
        enrolled_at = excluded.enrolled_at, revoked_at = NULL`,
    ).run(n.siteId, n.name, n.state, n.identityKey, n.wireguardKey, n.overlayIndex, n.agentVersion, n.enrolledAt);
  }

  revoke(siteId: string, name: string, now: number): boolean {
    return (
      stmt(
        this.db,
        "UPDATE site_nodes SET state = 'revoked', revoked_at = ?, password_hash = NULL, pending_hash = NULL WHERE site_id = ? AND name = ? AND state != 'revoked'",
      ).run(now, siteId, name).changes === 1
    );
  }

  holdersOfWireguardKey(publicKey: string, except: { siteId: string; name: string } | null): string[] {
    const rows = stmt(this.db, "SELECT site_id, name FROM site_nodes WHERE wireguard_key = ? AND state != 'revoked' ORDER BY site_id, name").all(publicKey) as {
      site_id: string;
      name: string;
    }[];
    return rows.filter((r) => !(except && r.site_id === except.siteId && r.name === except.name)).map((r) => `${r.site_id}.${r.name}`);
  }

  setCredential(siteId: string, name: string, passwordHash: string): void {
    stmt(this.db, 'UPDATE site_nodes SET password_hash = ?, pending_hash = NULL WHERE site_id = ? AND name = ?').run(passwordHash, siteId, name);
  }

  setPendingCredential(siteId: string, name: string, passwordHash: string): void {
    stmt(this.db, 'UPDATE site_nodes SET pending_hash = ? WHERE site_id = ? AND name = ?').run(passwordHash, siteId, name);
  }

  credentialHash(siteId: string, name: string): string | undefined {
    const r = stmt(this.db, "SELECT password_hash FROM site_nodes WHERE site_id = ? AND name = ? AND state = 'enrolled'").get(siteId, name) as
      | { password_hash: string | null }
      | undefined;
    return r?.password_hash ?? undefined;
  }

  pendingCredentialHash(siteId: string, name: string): string | undefined {
    const r = stmt(this.db, "SELECT pending_hash FROM site_nodes WHERE site_id = ? AND name = ? AND state = 'enrolled'").get(siteId, name) as
      | { pending_hash: string | null }
      | undefined;
    return r?.pending_hash ?? undefined;
  }

  promoteCredential(siteId: string, name: string): void {
    stmt(this.db, 'UPDATE site_nodes SET password_hash = pending_hash, pending_hash = NULL WHERE site_id = ? AND name = ? AND pending_hash IS NOT NULL').run(
      siteId,
      name,
    );
  }

  recordApplied(siteId: string, name: string, generation: number, now: number): void {
    stmt(
      this.db,
      'UPDATE site_nodes SET applied_generation = ?, applied_at = ? WHERE site_id = ? AND name = ? AND (applied_generation IS NULL OR applied_generation < ?)',
    ).run(generation, now, siteId, name, generation);
  }

  setAgentVersion(siteId: string, name: string, version: string): void {
    stmt(this.db, 'UPDATE site_nodes SET agent_version = ? WHERE site_id = ? AND name = ?').run(version, siteId, name);
  }
}
