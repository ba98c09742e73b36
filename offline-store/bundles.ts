// Bundles as received, their fate, and the last-known-good pointer the agent restarts from.
import { createHash } from 'node:crypto';
import { StoreError } from './errors.ts';
import type { StoreContext } from './context.ts';
import type { BundleRecord, BundleStatus, BundleStore } from './types.ts';

const LKG = 'lkg_bundle_id';

interface Row {
  id: number;
  bytes: Buffer;
  sha256: string;
  generation: number | null;
  received_at: number;
  applied_at: number | null;
  status: BundleStatus;
  reject_code: string | null;
  reject_reason: string | null;
}

const COLUMNS = 'id, bytes, sha256, generation, received_at, applied_at, status, reject_code, reject_reason';

function toRecord(r: Row): BundleRecord {
  return {
    id: r.id,
    bytes: r.bytes,
    sha256: r.sha256,
    generation: r.generation,
    receivedAt: r.received_at,
    appliedAt: r.applied_at,
    status: r.status,
    rejectCode: r.reject_code,
    rejectReason: r.reject_reason,
  };
}

export function bundleStore(ctx: StoreContext, history: number): BundleStore {
  const { db } = ctx;
  const one = (op: string, sql: string, ...args: unknown[]): BundleRecord | null => {
    const row = ctx.read(op, () => db.prepare(`SELECT ${COLUMNS} FROM bundles ${sql}`).get(...args)) as Row | undefined;
    return row ? toRecord(row) : null;
  };
  const mustExist = (op: string, id: number): void => {
    if (!db.prepare('SELECT 1 FROM bundles WHERE id = ?').get(id)) {
      throw new StoreError('STORE_NOT_FOUND', `${op}: no bundle with id ${id}`, 'use the id recordReceived returned');
    }
  };

  return {
    recordReceived(bytes, generation) {
      if (generation !== null && (!Number.isSafeInteger(generation) || generation < 0)) {
        throw new StoreError('STORE_BAD_INPUT', `bundles.recordReceived: generation ${generation} is not a non-negative integer`);
      }
      const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const sha = createHash('sha256').update(buf).digest('hex');
      const id = ctx.write('bundles.recordReceived', () => {
        const { lastInsertRowid } = db
          .prepare(`INSERT INTO bundles (bytes, sha256, generation, received_at, status) VALUES (?, ?, ?, ?, 'received')`)
          .run(buf, sha, generation, ctx.clock());
        // Keep the newest `history` bundles, and always the one the agent would restart from.
        db.prepare(`DELETE FROM bundles WHERE id NOT IN (SELECT id FROM bundles ORDER BY id DESC LIMIT ?)
                    AND id IS NOT coalesce((SELECT value FROM state WHERE name = ?), -1)`).run(history, LKG);
        return Number(lastInsertRowid);
      });
      return one('bundles.get', 'WHERE id = ?', id)!;
    },

    setLastKnownGood(id) {
      ctx.write('bundles.setLastKnownGood', () => {
        mustExist('bundles.setLastKnownGood', id);
        const row = db.prepare('SELECT status FROM bundles WHERE id = ?').get(id) as { status: BundleStatus };
        if (row.status === 'rejected') {
          throw new StoreError('STORE_BAD_INPUT', `bundles.setLastKnownGood: bundle ${id} was rejected`, 'only a verified bundle may become last-known-good');
        }
        ctx.setState(LKG, id);
      });
    },

    markApplied(id) {
      ctx.write('bundles.markApplied', () => {
        mustExist('bundles.markApplied', id);
        db.prepare(`UPDATE bundles SET status = 'applied', applied_at = ?, reject_code = NULL, reject_reason = NULL WHERE id = ?`).run(ctx.clock(), id);
      });
    },

    markRejected(id, code, reason) {
      ctx.write('bundles.markRejected', () => {
        mustExist('bundles.markRejected', id);
        db.prepare(`UPDATE bundles SET status = 'rejected', reject_code = ?, reject_reason = ? WHERE id = ?`).run(code, reason, id);
        if (ctx.getState(LKG) === id) {
          // The pointer moved before an apply that failed: fall back to what the kernel last held for sure.
          const prev = db.prepare(`SELECT id FROM bundles WHERE status = 'applied' ORDER BY applied_at DESC, id DESC LIMIT 1`).get() as
            | { id: number }
            | undefined;
          ctx.setState(LKG, prev?.id ?? null);
        }
      });
    },

    lastKnownGood() {
      const id = ctx.read('bundles.lastKnownGood', () => ctx.getState(LKG));
      return id === null ? null : one('bundles.lastKnownGood', 'WHERE id = ?', id);
    },
    lastApplied: () => one('bundles.lastApplied', `WHERE status = 'applied' ORDER BY applied_at DESC, id DESC LIMIT 1`),
    lastRejected: () => one('bundles.lastRejected', `WHERE status = 'rejected' ORDER BY id DESC LIMIT 1`),
    get: (id) => one('bundles.get', 'WHERE id = ?', id),
    findBySha256: (sha) => one('bundles.findBySha256', 'WHERE sha256 = ? ORDER BY id DESC LIMIT 1', sha),
    list(limit = history) {
      const rows = ctx.read('bundles.list', () => db.prepare(`SELECT ${COLUMNS} FROM bundles ORDER BY id DESC LIMIT ?`).all(limit)) as Row[];
      return rows.map(toRecord);
    },
  };
}
