// The SQLite implementation of HubStore (the embedded default): one file, WAL, every area behind its
// repo. The repos are synchronous (better-sqlite3); this file gives them the async interface of
// types.ts without giving up their speed: a call outside a transaction runs at once and returns a
// settled Promise. A transaction spans awaits (BEGIN, await fn, COMMIT) on the one connection, so
// while it is open every other call waits for it to end (else it would join the transaction and be
// rolled back with it), and transactions run one after another.
import { openDatabase, stmt, type Db, type Sync } from './db.ts';
import { SqliteAudit } from './audit-repo.ts';
import { SqliteCluster } from './cluster-repo.ts';
import { SqliteHealthEvents } from './health-events-repo.ts';
import { SqliteKeys } from './keys-repo.ts';
import { SqliteLinks } from './links-repo.ts';
import { SqlitePolicies } from './policies-repo.ts';
import { SqliteRollouts } from './rollouts-repo.ts';
import { SqliteSites } from './sites-repo.ts';
import { SqliteTelemetry } from './telemetry-repo.ts';
import { SqliteTokens } from './tokens-repo.ts';
import { SqliteNodes } from './nodes-repo.ts';
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
} from './types.ts';
import { SqliteUpdates } from './updates-repo.ts';

/** The open transaction, if any: calls outside it wait until it settles. */
class Gate {
  current: Promise<void> | undefined;

  async run<T>(f: () => T): Promise<T> {
    while (this.current !== undefined) await this.current;
    return f();
  }
}

type Method = (...args: unknown[]) => unknown;

/** The repo's methods as Promise-returning functions; with a gate, each waits for an open transaction first. */
function promised<R extends object>(repo: Sync<R>, gate: Gate | null): R {
  const out: Record<string, Method> = {};
  for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(repo))) {
    if (name === 'constructor') continue;
    const f = (repo as Record<string, Method>)[name].bind(repo);
    out[name] = gate ? (...args) => gate.run(() => f(...args)) : async (...args) => f(...args);
  }
  return out as R;
}

function repos(db: Db, gate: Gate | null): StoreRepos {
  return {
    sites: promised<SitesRepo>(new SqliteSites(db), gate),
    tokens: promised<TokensRepo>(new SqliteTokens(db), gate),
    audit: promised<AuditRepo>(new SqliteAudit(db), gate),
    policies: promised<PoliciesRepo>(new SqlitePolicies(db), gate),
    rollouts: promised<RolloutsRepo>(new SqliteRollouts(db), gate),
    telemetry: promised<TelemetryRepo>(new SqliteTelemetry(db), gate),
    keys: promised<KeysRepo>(new SqliteKeys(db), gate),
    cluster: promised<ClusterRepo>(new SqliteCluster(db), gate),
    health: promised<HealthEventsRepo>(new SqliteHealthEvents(db), gate),
    updates: promised<UpdatesRepo>(new SqliteUpdates(db), gate),
    links: promised<LinksRepo>(new SqliteLinks(db), gate),
    nodes: promised<NodesRepo>(new SqliteNodes(db), gate),
  };
}

export class SqliteHubStore implements HubStore {
  readonly backend = 'sqlite';
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
  private readonly gate = new Gate();
  /** The same repos without the gate: what a transaction's fn gets. */
  private readonly inTx: StoreRepos;

  constructor(private readonly db: Db) {
    const r = repos(db, this.gate);
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
    this.inTx = repos(db, null);
  }

  async tx<T>(fn: (t: StoreRepos) => Promise<T>, opts: { durable?: boolean } = {}): Promise<T> {
    while (this.gate.current !== undefined) await this.gate.current;
    let settle!: () => void;
    this.gate.current = new Promise((r) => (settle = r));
    // WAL with synchronous=FULL syncs the WAL at commit, which also makes every earlier commit durable.
    // SQLite refuses to change it inside a transaction; the gate keeps every other call out meanwhile.
    if (opts.durable) this.db.pragma('synchronous = FULL');
    try {
      stmt(this.db, 'BEGIN').run();
      const v = await fn(this.inTx);
      stmt(this.db, 'COMMIT').run();
      return v;
    } catch (e) {
      if (this.db.inTransaction) stmt(this.db, 'ROLLBACK').run();
      throw e;
    } finally {
      if (opts.durable) this.db.pragma('synchronous = NORMAL');
      this.gate.current = undefined;
      settle();
    }
  }

  async close(): Promise<void> {
    while (this.gate.current !== undefined) await this.gate.current;
    if (this.db.open) this.db.close();
  }
}

export function openHubStore(path: string): HubStore {
  return new SqliteHubStore(openDatabase(path));
}
