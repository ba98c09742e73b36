// The one door to PostgreSQL for the repos: run a statement (on the pool, or on a transaction's client),
// or a few atomically. Connection failures become StoreError STORE_UNAVAILABLE, so the API can answer
// 503 with a code and callers retry; constraint violations and bugs pass through as they are.
import pg from 'pg';
import { errorMessage } from '../../../base/index.ts';
import { StoreError } from '../errors.ts';

export type Row = Record<string, unknown>;

export interface Sql {
  query<R extends Row = Row>(text: string, params?: unknown[]): Promise<{ rows: R[]; rowCount: number }>;
  /** Runs fn in a transaction: a new one on the pool, or inline when already in one. */
  atomic<T>(fn: (sql: Sql) => Promise<T>): Promise<T>;
}

/** SQLSTATE classes and Node errors that mean "the database is not there", not "the statement is wrong". */
const UNAVAILABLE_STATES = /^(08|57P0[1-3]|53300)/;
const UNAVAILABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOENT', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTCONN']);

export function isUnavailable(e: unknown): boolean {
  if (e instanceof StoreError) return e.code === 'STORE_UNAVAILABLE';
  const code = (e as { code?: unknown })?.code;
  if (typeof code === 'string' && (UNAVAILABLE_STATES.test(code) || UNAVAILABLE_ERRNOS.has(code))) return true;
  const msg = errorMessage(e);
  return /Connection terminated|connection timeout|Client has encountered a connection error|the database system is (starting up|shutting down)/i.test(msg);
}

export function mapError(e: unknown): unknown {
  if (e instanceof StoreError || !isUnavailable(e)) return e;
  return new StoreError(
    'STORE_UNAVAILABLE',
    `the PostgreSQL store is unavailable: ${errorMessage(e)}`,
    'the hub retries on its own; check that PostgreSQL is up',
    {
      cause: e,
    },
  );
}

/** int8 (counts, sums, BIGINT times) and numeric (SUM of BIGINT) as JavaScript numbers: every value the hub keeps fits in 2^53. */
export const TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20 || oid === 1700) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format);
  },
};

async function run<R extends Row>(c: pg.Pool | pg.PoolClient, text: string, params?: unknown[]): Promise<{ rows: R[]; rowCount: number }> {
  try {
    const r = await c.query<R>(text, params);
    return { rows: r.rows, rowCount: r.rowCount ?? 0 };
  } catch (e) {
    throw mapError(e);
  }
}

/** Runs fn on one client inside BEGIN/COMMIT; ROLLBACK on error; a broken client is not returned to the pool. */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (e) {
    throw mapError(e);
  }
  let broken: unknown;
  try {
    await run(client, 'BEGIN');
    const v = await fn(client);
    await run(client, 'COMMIT');
    return v;
  } catch (e) {
    try {
      await client.query('ROLLBACK');
    } catch (re) {
      broken = re;
    }
    throw mapError(e);
  } finally {
    client.release(broken instanceof Error ? broken : undefined);
  }
}

export function poolSql(pool: pg.Pool): Sql {
  const self: Sql = {
    query: (text, params) => run(pool, text, params),
    atomic: (fn) => inTransaction(pool, (client) => fn(clientSql(client))),
  };
  return self;
}

export function clientSql(client: pg.PoolClient): Sql {
  const self: Sql = {
    query: (text, params) => run(client, text, params),
    atomic: (fn) => fn(self),
  };
  return self;
}
