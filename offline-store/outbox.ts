// Bounded outbox: telemetry the agent could not send yet, drained in seq order once the broker confirms.
// Caps by count and bytes. Room is made by evicting the OLDEST LOW-priority records (sampled flows, verdict
// batches); high-priority records (acks, status, rejections) are only removed by ack(). If the outbox holds
// nothing but high-priority records and is full, a new low record is dropped and a new high record is refused
// with STORE_OUTBOX_FULL: a refusal the caller sees beats silently losing an ack it believes is queued.
// Every loss is added to persisted counters, so it is reported even after a reboot.
import { StoreError } from './errors.ts';
import type { StoreContext } from './context.ts';
import type { Outbox, OutboxLimits, OutboxPriority, OutboxRecord, OutboxStats } from './types.ts';

export const DEFAULT_OUTBOX_LIMITS: OutboxLimits = { maxRecords: 10_000, maxBytes: 16 * 1024 * 1024 };

const PRIORITY = { high: 0, low: 1 } as const;
const LOST_RECORDS = 'outbox_lost_records';
const LOST_BYTES = 'outbox_lost_bytes';
const HIGH_REFUSED = 'outbox_high_refused';

interface Row {
  seq: number;
  topic: string;
  payload: Buffer;
  priority: 0 | 1;
  created_at: number;
}

export function outbox(ctx: StoreContext, limits: OutboxLimits): Outbox {
  const { db } = ctx;
  if (!(limits.maxRecords >= 1 && limits.maxBytes >= 1)) {
    throw new StoreError('STORE_BAD_INPUT', `outbox limits must be >= 1, got ${JSON.stringify(limits)}`);
  }
  // Totals are kept in memory (one writer: this process) and changed only after a commit.
  const totals = db.prepare('SELECT count(*) AS n, coalesce(sum(bytes), 0) AS b FROM outbox').get() as { n: number; b: number };
  let depth = totals.n;
  let bytes = totals.b;

  const counter = (name: string): number => (db.prepare('SELECT value FROM counters WHERE name = ?').get(name) as { value: number } | undefined)?.value ?? 0;
  const bump = db.prepare('INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = value + excluded.value');
  const oldestLow = db.prepare('SELECT seq, bytes FROM outbox WHERE priority = 1 ORDER BY seq LIMIT 64');
  const del = db.prepare('DELETE FROM outbox WHERE seq = ?');
  const insert = db.prepare('INSERT INTO outbox (topic, payload, priority, bytes, created_at) VALUES (?, ?, ?, ?, ?)');

  const lost = (): OutboxStats['lost'] =>
    ctx.read('outbox.lost', () => ({ records: counter(LOST_RECORDS), bytes: counter(LOST_BYTES), highRefused: counter(HIGH_REFUSED) }));

  const self: Outbox = {
    append(topic, payload, priority) {
      if (!(priority in PRIORITY)) throw new StoreError('STORE_BAD_INPUT', `outbox.append: priority must be high or low, got ${String(priority)}`);
      const body = typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
      const size = Buffer.byteLength(topic) + body.length;
      if (size > limits.maxBytes) {
        throw new StoreError(
          'STORE_OUTBOX_RECORD_TOO_LARGE',
          `outbox.append ${topic}: record of ${size} bytes exceeds the outbox cap of ${limits.maxBytes} bytes`,
          'split the record or raise outbox.maxBytes',
        );
      }
      const fits = (d: number, b: number) => d + 1 <= limits.maxRecords && b + size <= limits.maxBytes;
      const result = ctx.write('outbox.append', () => {
        let d = depth;
        let b = bytes;
        let evicted = 0;
        let evictedBytes = 0;
        while (!fits(d, b)) {
          const victims = oldestLow.all() as { seq: number; bytes: number }[];
          if (victims.length === 0) break;
          for (const v of victims) {
            if (fits(d, b)) break;
            del.run(v.seq);
            d -= 1;
            b -= v.bytes;
            evicted += 1;
            evictedBytes += v.bytes;
          }
        }
        let seq: number | null = null;
        if (fits(d, b)) {
          seq = Number(insert.run(topic, body, PRIORITY[priority], size, ctx.clock()).lastInsertRowid);
          d += 1;
          b += size;
        } else if (priority === 'low') {
          evicted += 1;
          evictedBytes += size;
        } else {
          bump.run(HIGH_REFUSED, 1);
          return { refused: true as const };
        }
        if (evicted > 0) {
          bump.run(LOST_RECORDS, evicted);
          bump.run(LOST_BYTES, evictedBytes);
        }
        return { refused: false as const, seq, d, b, evicted, evictedBytes };
      });
      if (result.refused) {
        ctx.emit({ type: 'outbox-dropped', records: 1, bytes: size, priority: 'high', reason: 'refused' });
        throw new StoreError(
          'STORE_OUTBOX_FULL',
          `outbox.append ${topic}: the outbox is full of high-priority records (${depth} records, ${bytes} bytes)`,
          'the hub has been unreachable for long; check the link (weft-agent status) or raise the outbox caps',
        );
      }
      depth = result.d;
      bytes = result.b;
      if (result.evicted > 0) ctx.emit({ type: 'outbox-dropped', records: result.evicted, bytes: result.evictedBytes, priority: 'low', reason: 'evicted' });
      return { seq: result.seq, evicted: { records: result.evicted, bytes: result.evictedBytes } };
    },

    peek(batch) {
      const rows = ctx.read('outbox.peek', () =>
        db.prepare('SELECT seq, topic, payload, priority, created_at FROM outbox ORDER BY seq LIMIT ?').all(Math.max(0, Math.floor(batch))),
      ) as Row[];
      return rows.map(
        (r): OutboxRecord => ({
          seq: r.seq,
          topic: r.topic,
          payload: r.payload,
          priority: (r.priority === 0 ? 'high' : 'low') as OutboxPriority,
          createdAt: r.created_at,
        }),
      );
    },

    ack(upToSeq) {
      const r = ctx.write('outbox.ack', () => {
        const gone = db.prepare('SELECT count(*) AS n, coalesce(sum(bytes), 0) AS b FROM outbox WHERE seq <= ?').get(upToSeq) as { n: number; b: number };
        db.prepare('DELETE FROM outbox WHERE seq <= ?').run(upToSeq);
        return gone;
      });
      depth -= r.n;
      bytes -= r.b;
      return r.n;
    },

    depth: () => depth,
    bytes: () => bytes,
    lost,
    stats() {
      const oldest = ctx.read('outbox.stats', () => db.prepare('SELECT min(created_at) AS t FROM outbox').get()) as { t: number | null };
      return { depth, bytes, limits: { ...limits }, lost: lost(), oldestCreatedAt: oldest.t };
    },
  };
  return self;
}
