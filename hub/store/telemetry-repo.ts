// Telemetry from sites: verdict events and counters, deduped by (site, device, seq), with retention caps.
import { stmt, type Db, type Sync } from './db.ts';
import type { VerdictRecord } from '../../protocol/index.ts';
import type { FlowQuery, FlowRow, RetentionCaps, TelemetryBatch, TelemetryRepo } from './types.ts';

/** "Kind/namespace/name" or "Kind/name": the key flows are queried by. */
export function policyKey(p: VerdictRecord['policy']): string | null {
  if (!p) return null;
  return p.namespace ? `${p.kind}/${p.namespace}/${p.name}` : `${p.kind}/${p.name}`;
}

function parseTime(iso: string, fallback: number): number {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : fallback;
}

interface VRow {
  id: number;
  site_id: string;
  seq: number;
  at: number;
  generation: number;
  endpoint: string;
  direction: 'ingress' | 'egress';
  verdict: FlowRow['verdict'];
  proto: number;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  policy: string | null;
  rule: string | null;
  count: number;
  node: string | null;
}

function where(q: Omit<FlowQuery, 'limit'>): { sql: string; args: unknown[] } {
  const conds: string[] = [];
  const args: unknown[] = [];
  if (q.siteId) {
    conds.push('site_id = ?');
    args.push(q.siteId);
  }
  if (q.policy) {
    conds.push('policy = ?');
    args.push(q.policy);
  }
  if (q.verdict) {
    conds.push('verdict = ?');
    args.push(q.verdict);
  }
  if (q.since !== undefined) {
    conds.push('at >= ?');
    args.push(q.since);
  }
  if (q.until !== undefined) {
    conds.push('at < ?');
    args.push(q.until);
  }
  if (q.afterId !== undefined) {
    conds.push('id > ?');
    args.push(q.afterId);
  }
  return { sql: conds.length ? `WHERE ${conds.join(' AND ')}` : '', args };
}

export class SqliteTelemetry implements Sync<TelemetryRepo> {
  constructor(private readonly db: Db) {}

  ingest(b: TelemetryBatch, now: number): boolean {
    return this.db.transaction(() => {
      const fresh =
        stmt(this.db, 'INSERT OR IGNORE INTO telemetry_batches (site_id, device, seq, type, at, received_at) VALUES (?, ?, ?, ?, ?, ?)').run(
          b.siteId,
          b.device,
          b.seq,
          b.type,
          b.at,
          now,
        ).changes === 1;
      if (!fresh) return false;
      const batchAt = parseTime(b.at, now);
      const v = stmt(
        this.db,
        `INSERT INTO verdicts (site_id, seq, at, generation, endpoint, direction, verdict, proto, src, dst, sport, dport, policy, rule, count, node)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      for (const r of b.verdicts) {
        v.run(
          b.siteId,
          b.seq,
          parseTime(r.at, batchAt),
          r.generation,
          r.endpoint,
          r.direction,
          r.verdict,
          r.proto,
          r.src,
          r.dst,
          r.sport,
          r.dport,
          policyKey(r.policy),
          r.policy?.rule ?? null,
          r.count ?? 1,
          b.node ?? null,
        );
      }
      const c = stmt(this.db, 'INSERT INTO counters (site_id, seq, at, policy, rule, verdict, packets, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
      for (const r of b.counters) c.run(b.siteId, b.seq, batchAt, policyKey(r.policy), r.policy?.rule ?? null, r.verdict, r.packets, r.bytes);
      return true;
    })();
  }

  ingestKeys(keys: readonly Omit<TelemetryBatch, 'verdicts' | 'counters'>[], now: number): boolean[] {
    const ins = stmt(this.db, 'INSERT OR IGNORE INTO telemetry_batches (site_id, device, seq, type, at, received_at) VALUES (?, ?, ?, ?, ?, ?)');
    return keys.map((k) => ins.run(k.siteId, k.device, k.seq, k.type, k.at, now).changes === 1);
  }

  flows(q: FlowQuery): FlowRow[] {
    const w = where(q);
    const order = q.afterId === undefined ? 'at DESC, id DESC' : 'id';
    const rows = stmt(this.db, `SELECT * FROM verdicts ${w.sql} ORDER BY ${order} LIMIT ?`).all(...w.args, q.limit) as VRow[];
    return rows.map((r) => ({
      id: r.id,
      siteId: r.site_id,
      node: r.node,
      seq: r.seq,
      at: new Date(r.at).toISOString(),
      generation: r.generation,
      endpoint: r.endpoint,
      direction: r.direction,
      verdict: r.verdict,
      proto: r.proto,
      src: r.src,
      dst: r.dst,
      sport: r.sport,
      dport: r.dport,
      policy: r.policy,
      rule: r.rule,
      count: r.count,
    }));
  }

  lastFlowId(): number {
    return (stmt(this.db, 'SELECT MAX(id) AS id FROM verdicts').get() as { id: number | null }).id ?? 0;
  }

  counters(q: Omit<FlowQuery, 'limit'>): ReturnType<Sync<TelemetryRepo>['counters']> {
    const w = where(q);
    return stmt(
      this.db,
      `SELECT site_id AS siteId, policy, verdict, SUM(packets) AS packets, SUM(bytes) AS bytes FROM counters ${w.sql}
      GROUP BY site_id, policy, verdict ORDER BY site_id, policy, verdict`,
    ).all(...w.args) as ReturnType<Sync<TelemetryRepo>['counters']>;
  }

  prune(caps: RetentionCaps, now: number): number {
    return this.db.transaction(() => {
      const cutoff = now - caps.maxAgeMs;
      let n = 0;
      for (const table of ['verdicts', 'counters']) {
        n += stmt(this.db, `DELETE FROM ${table} WHERE at < ?`).run(cutoff).changes;
        // Per site, keep the newest maxRowsPerSite rows.
        n += stmt(
          this.db,
          `DELETE FROM ${table} WHERE id IN (
          SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY site_id ORDER BY at DESC, id DESC) AS rn FROM ${table}) WHERE rn > ?)`,
        ).run(caps.maxRowsPerSite).changes;
      }
      // Dedupe keys are tiny; keep them as long as the data they guard (by age).
      stmt(this.db, 'DELETE FROM telemetry_batches WHERE received_at < ?').run(cutoff);
      return n;
    })();
  }
}
