// Sites and their broker credentials.
import { stmt, type Db, type Sync } from './db.ts';
import type { SiteRecord, SiteSpec, SitesRepo, SiteState } from './types.ts';

interface Row {
  id: string;
  name: string;
  labels: string;
  lat: number;
  lon: number;
  client_cidrs: string;
  capacity: number;
  services: string;
  state: SiteState;
  drained: number;
  identity_key: string | null;
  wireguard_key: string | null;
  overlay_index: number | null;
  created_at: number;
  enrolled_at: number | null;
  revoked_at: number | null;
}

function fromRow(r: Row): SiteRecord {
  return {
    id: r.id,
    name: r.name,
    labels: JSON.parse(r.labels),
    lat: r.lat,
    lon: r.lon,
    clientCidrs: JSON.parse(r.client_cidrs),
    capacity: r.capacity,
    services: JSON.parse(r.services),
    state: r.state,
    drained: r.drained === 1,
    identityKey: r.identity_key,
    wireguardKey: r.wireguard_key,
    overlayIndex: r.overlay_index,
    createdAt: r.created_at,
    enrolledAt: r.enrolled_at,
    revokedAt: r.revoked_at,
  };
}

const COLUMNS: Record<string, string> = {
  state: 'state',
  drained: 'drained',
  identityKey: 'identity_key',
  wireguardKey: 'wireguard_key',
  overlayIndex: 'overlay_index',
  enrolledAt: 'enrolled_at',
  revokedAt: 'revoked_at',
};

export class SqliteSites implements Sync<SitesRepo> {
  constructor(private readonly db: Db) {}

  create(id: string, s: SiteSpec, now: number): SiteRecord {
    stmt(
      this.db,
      `INSERT INTO sites (id, name, labels, lat, lon, client_cidrs, capacity, services, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(id, s.name, JSON.stringify(s.labels), s.lat, s.lon, JSON.stringify(s.clientCidrs), s.capacity, JSON.stringify(s.services), now);
    return this.get(id)!;
  }

  get(id: string): SiteRecord | undefined {
    const r = stmt(this.db, 'SELECT * FROM sites WHERE id = ?').get(id) as Row | undefined;
    return r && fromRow(r);
  }

  byName(name: string): SiteRecord | undefined {
    const r = stmt(this.db, 'SELECT * FROM sites WHERE name = ?').get(name) as Row | undefined;
    return r && fromRow(r);
  }

  list(filter: { state?: SiteState } = {}): SiteRecord[] {
    const rows = filter.state
      ? stmt(this.db, 'SELECT * FROM sites WHERE state = ? ORDER BY id').all(filter.state)
      : stmt(this.db, 'SELECT * FROM sites ORDER BY id').all();
    return (rows as Row[]).map(fromRow);
  }

  update(id: string, patch: Parameters<Sync<SitesRepo>['update']>[1]): void {
    const sets: string[] = [];
    const vals: unknown[] = [];
    for (const [k, v] of Object.entries(patch)) {
      sets.push(`${COLUMNS[k]} = ?`);
      vals.push(typeof v === 'boolean' ? (v ? 1 : 0) : v);
    }
    if (sets.length) stmt(this.db, `UPDATE sites SET ${sets.join(', ')} WHERE id = ?`).run(...vals, id);
  }

  state(id: string): SiteState | undefined {
    return (stmt(this.db, 'SELECT state FROM sites WHERE id = ?').get(id) as { state: SiteState } | undefined)?.state;
  }

  enrolledDevice(id: string): string | undefined {
    const r = stmt(this.db, "SELECT identity_key FROM sites WHERE id = ? AND state = 'enrolled'").get(id) as { identity_key: string | null } | undefined;
    return r ? (r.identity_key ?? '') : undefined;
  }

  holdersOfWireguardKey(publicKey: string, exceptId: string): string[] {
    const rows = stmt(this.db, "SELECT id FROM sites WHERE wireguard_key = ? AND id != ? AND state != 'revoked' ORDER BY id").all(publicKey, exceptId);
    return (rows as { id: string }[]).map((r) => r.id);
  }

  maxOverlayIndex(): number {
    // Nodes of multi-node sites hold overlay addresses too: one pool for every tunnel peer.
    return (
      (
        stmt(this.db, 'SELECT MAX(m) AS m FROM (SELECT MAX(overlay_index) AS m FROM sites UNION ALL SELECT MAX(overlay_index) FROM site_nodes)').get() as {
          m: number | null;
        }
      ).m ?? 0
    );
  }

  usedOverlayIndexes(): Set<number> {
    const rows = stmt(this.db, 'SELECT overlay_index FROM sites WHERE overlay_index IS NOT NULL UNION SELECT overlay_index FROM site_nodes').all() as {
      overlay_index: number;
    }[];
    return new Set(rows.map((r) => r.overlay_index));
  }

  setCredential(siteId: string, passwordHash: string, now: number): void {
    stmt(
      this.db,
      `INSERT INTO site_credentials (site_id, password_hash, created_at) VALUES (?, ?, ?)
      ON CONFLICT(site_id) DO UPDATE SET password_hash = excluded.password_hash, created_at = excluded.created_at, pending_hash = NULL`,
    ).run(siteId, passwordHash, now);
  }

  setPendingCredential(siteId: string, passwordHash: string): void {
    stmt(this.db, 'UPDATE site_credentials SET pending_hash = ? WHERE site_id = ?').run(passwordHash, siteId);
  }

  pendingCredentialHash(siteId: string): string | undefined {
    const r = stmt(this.db, 'SELECT pending_hash FROM site_credentials WHERE site_id = ?').get(siteId) as { pending_hash: string | null } | undefined;
    return r?.pending_hash ?? undefined;
  }

  promoteCredential(siteId: string, now: number): void {
    stmt(
      this.db,
      'UPDATE site_credentials SET password_hash = pending_hash, pending_hash = NULL, created_at = ? WHERE site_id = ? AND pending_hash IS NOT NULL',
    ).run(now, siteId);
  }

  credentialHash(siteId: string): string | undefined {
    const r = stmt(this.db, 'SELECT password_hash FROM site_credentials WHERE site_id = ?').get(siteId) as { password_hash: string } | undefined;
    return r?.password_hash;
  }

  deleteCredential(siteId: string): void {
    stmt(this.db, 'DELETE FROM site_credentials WHERE site_id = ?').run(siteId);
  }
}
