// The SQLite implementation of HubStore: one file, WAL, every area behind its repo.
import { openDatabase, type Db } from './db.ts';
import { SqliteAudit } from './audit-repo.ts';
import { SqliteKeys } from './keys-repo.ts';
import { SqlitePolicies } from './policies-repo.ts';
import { SqliteRollouts } from './rollouts-repo.ts';
import { SqliteSites } from './sites-repo.ts';
import { SqliteTelemetry } from './telemetry-repo.ts';
import { SqliteTokens } from './tokens-repo.ts';
import type { HubStore } from './types.ts';

export class SqliteHubStore implements HubStore {
  readonly sites: SqliteSites;
  readonly tokens: SqliteTokens;
  readonly audit: SqliteAudit;
  readonly policies: SqlitePolicies;
  readonly rollouts: SqliteRollouts;
  readonly telemetry: SqliteTelemetry;
  readonly keys: SqliteKeys;

  constructor(private readonly db: Db) {
    this.sites = new SqliteSites(db);
    this.tokens = new SqliteTokens(db);
    this.audit = new SqliteAudit(db);
    this.policies = new SqlitePolicies(db);
    this.rollouts = new SqliteRollouts(db);
    this.telemetry = new SqliteTelemetry(db);
    this.keys = new SqliteKeys(db);
  }

  tx<T>(fn: () => T, opts: { durable?: boolean } = {}): T {
    if (!opts.durable) return this.db.transaction(fn)();
    // WAL with synchronous=FULL syncs the WAL at commit, which also makes every earlier commit durable.
    this.db.pragma('synchronous = FULL');
    try {
      return this.db.transaction(fn)();
    } finally {
      this.db.pragma('synchronous = NORMAL');
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

export function openHubStore(path: string): HubStore {
  return new SqliteHubStore(openDatabase(path));
}
