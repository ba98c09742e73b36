// The PostgreSQL implementation of HubStore (hubs past one machine share one database): a pool for
// calls on their own, one client per transaction, the schema brought up to date at open. Several hubs
// may start at once: migrations run under a transaction-scoped advisory lock, one hub at a time.
import pg from 'pg';
import { errorMessage } from '../../../base/index.ts';
import { StoreError } from '../errors.ts';
import type {
  AuditRepo,
  ClusterRepo,
  HealthEventsRepo,
  HubStore,
  KeysRepo,
  LinksRepo,
  NodesRepo,
  PoliciesRepo,
  RolloutsRepo,
  SitesRepo,
  StoreRepos,
  TelemetryRepo,
  TokensRepo,
  UpdatesRepo,
} from '../types.ts';
import { PG_MIGRATIONS } from './migrations.ts';
import { pgRepos } from './repos.ts';
import { clientSql, inTransaction, isUnavailable, mapError, poolSql, TYPES } from './sql.ts';

/** Advisory lock key of schema migrations (any constant; 'weft' in ASCII). */
const MIGRATE_LOCK = 0x77656674;

export async function migratePg(pool: pg.Pool, upTo = PG_MIGRATIONS.length): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATE_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS weft_schema (version INTEGER NOT NULL)');
    const { rows } = await client.query<{ version: number }>('SELECT version FROM weft_schema');
    if (!rows.length) await client.query('INSERT INTO weft_schema (version) VALUES (0)');
    const current = rows[0]?.version ?? 0;
    if (current > PG_MIGRATIONS.length) {
      throw new StoreError('STORE_TOO_NEW', `database schema version ${current} is newer than this hub (${PG_MIGRATIONS.length}): upgrade the hub`);
    }
    for (let v = current; v < upTo; v++) {
      try {
        await client.query(PG_MIGRATIONS[v]);
      } catch (e) {
        if (isUnavailable(e)) throw e;
        throw new StoreError('STORE_MIGRATION_FAILED', `migration ${v + 1} failed: ${errorMessage(e)}`);
      }
      await client.query('UPDATE weft_schema SET version = $1', [v + 1]);
    }
  });
}

export class PgHubStore implements HubStore {
  readonly backend = 'postgres';
  readonly sites: SitesRepo;
  readonly tokens: TokensRepo;
  readonly audit: AuditRepo;
  readonly policies: PoliciesRepo;
  readonly rollouts: RolloutsRepo;
  readonly telemetry: TelemetryRepo;
  readonly keys: KeysRepo;
  readonly cluster: ClusterRepo;
  readonly health: HealthEventsRepo;
  readonly updates: UpdatesRepo;
  readonly links: LinksRepo;
  readonly nodes: NodesRepo;

  constructor(readonly pool: pg.Pool) {
    const r = pgRepos(poolSql(pool));
    this.sites = r.sites;
    this.tokens = r.tokens;
    this.audit = r.audit;
    this.policies = r.policies;
    this.rollouts = r.rollouts;
    this.telemetry = r.telemetry;
    this.keys = r.keys;
    this.cluster = r.cluster;
    this.health = r.health;
    this.updates = r.updates;
    this.links = r.links;
    this.nodes = r.nodes;
  }

  /** Every PostgreSQL commit is durable (synchronous_commit on): `durable` asks for nothing more. */
  tx<T>(fn: (t: StoreRepos) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, (client) => fn(pgRepos(clientSql(client))));
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** Pool settings: fail fast when the server is gone (the API answers 503), never hang a request. */
export function pgPool(url: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, types: TYPES, max: 10, connectionTimeoutMillis: 2000, idleTimeoutMillis: 10_000 });
  // An idle client losing its server (PostgreSQL restarted) emits here; the pool drops it and makes a new one.
  pool.on('error', () => {});
  return pool;
}

export async function openPgStore(url: string): Promise<PgHubStore> {
  const pool = pgPool(url);
  try {
    await migratePg(pool);
  } catch (e) {
    await pool.end();
    throw mapError(e);
  }
  return new PgHubStore(pool);
}
