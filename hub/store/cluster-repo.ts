// Hub nodes and the sites' last health changes (hubs past one machine; the embedded hub writes them too).
import { stmt, type Db, type Sync } from './db.ts';
import type { ClusterRepo, HubNodeRecord, SiteHealthRecord } from './types.ts';

interface NodeRow {
  name: string;
  wireguard_key: string;
  endpoint: string;
  overlay_index: number;
  seen_at: number;
}

interface HealthRow {
  site_id: string;
  health: SiteHealthRecord['health'];
  reason: string;
  since: number;
  by: string;
}

export class SqliteCluster implements Sync<ClusterRepo> {
  constructor(private readonly db: Db) {}

  upsertNode(n: HubNodeRecord): void {
    stmt(
      this.db,
      `INSERT INTO hub_nodes (name, wireguard_key, endpoint, overlay_index, seen_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (name) DO UPDATE SET wireguard_key = excluded.wireguard_key, endpoint = excluded.endpoint, overlay_index = excluded.overlay_index, seen_at = excluded.seen_at`,
    ).run(n.name, n.wireguardKey, n.endpoint, n.overlayIndex, n.seenAt);
  }

  nodes(): HubNodeRecord[] {
    return (stmt(this.db, 'SELECT * FROM hub_nodes ORDER BY name').all() as NodeRow[]).map((r) => ({
      name: r.name,
      wireguardKey: r.wireguard_key,
      endpoint: r.endpoint,
      overlayIndex: r.overlay_index,
      seenAt: r.seen_at,
    }));
  }

  removeNode(name: string): boolean {
    return stmt(this.db, 'DELETE FROM hub_nodes WHERE name = ?').run(name).changes > 0;
  }

  putHealth(h: SiteHealthRecord): void {
    stmt(
      this.db,
      `INSERT INTO site_health (site_id, health, reason, since, by) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (site_id) DO UPDATE SET health = excluded.health, reason = excluded.reason, since = excluded.since, by = excluded.by
      WHERE excluded.since >= site_health.since`,
    ).run(h.siteId, h.health, h.reason, h.since, h.by);
  }

  health(): SiteHealthRecord[] {
    return (stmt(this.db, 'SELECT site_id, health, reason, since, by FROM site_health ORDER BY site_id').all() as HealthRow[]).map((r) => ({
      siteId: r.site_id,
      health: r.health,
      reason: r.reason,
      since: r.since,
      by: r.by,
    }));
  }
}
