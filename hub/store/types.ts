// The hub's store, one interface per area, asynchronous so that one interface has two backends:
// SQLite (embedded default: better-sqlite3, WAL, synchronous underneath) and PostgreSQL (hubs past one
// machine, DESIGN.md "Past one machine"). hub/store/testing/contract.ts is one table of cases run over both.
//
// Design:
// - Every repo method returns a Promise. `store.sites.get(id)` etc. run on their own (autocommit).
// - `store.tx(async (t) => ...)` runs fn in ONE transaction; `t` holds the same repos bound to it.
//   Inside fn, use `t` only (never `store`): on PostgreSQL `store` is another connection that does not
//   see the uncommitted writes, on SQLite it waits for the transaction to end (a deadlock). Do no
//   other I/O inside fn (no publish, no fetch): the transaction stays open across every await.
// - Helpers that may run inside or outside a transaction take `StoreRepos`, which both satisfy.
// - SQLite keeps its speed: a call outside a transaction runs synchronously and returns a settled
//   Promise; transactions are serialised and other calls wait while one is open (sqlite-store.ts).
// - When the backend cannot be reached (PostgreSQL down) calls reject with StoreError
//   STORE_UNAVAILABLE; the API answers 503 with that code and callers retry later.
import type { RoutableSite } from '../../router/index.ts';
import type { EventVerdict, VerdictRecord, CounterRecord } from '../../protocol/index.ts';

export type Role = 'viewer' | 'operator' | 'admin';
export type SiteState = 'pending' | 'enrolled' | 'revoked';

/** What ops say about a site: the routable fields the router needs, minus live health and load. */
export type SiteSpec = Pick<RoutableSite, 'name' | 'labels' | 'lat' | 'lon' | 'clientCidrs' | 'capacity' | 'services'>;

export interface SiteRecord extends SiteSpec {
  id: string;
  state: SiteState;
  drained: boolean;
  identityKey: string | null;
  wireguardKey: string | null;
  overlayIndex: number | null;
  createdAt: number;
  enrolledAt: number | null;
  revokedAt: number | null;
}

export interface EnrollTokenRecord {
  hash: string;
  siteId: string;
  createdAt: number;
  expiresAt: number;
  /** When the last use was spent (a one-time token: its use); null while uses remain. */
  usedAt: number | null;
  /**
   * A node token: it enrolls nodes of a multi-node site, up to `maxUses` of them (one use each); a site
   * token (false, maxUses 1) binds the one device of a one-device site. Absent: false.
   */
  forNodes?: boolean;
  /** How many enrollments the token allows (default 1) and how many it has had. */
  maxUses?: number;
  uses?: number;
}

export type NodeState = 'enrolled' | 'revoked';

/** One node of a multi-node site: its own device identity, WireGuard peer, overlay address and broker credential. */
export interface SiteNodeRecord {
  siteId: string;
  /** The k3s node name (a DNS label); unique within the site. */
  name: string;
  state: NodeState;
  identityKey: string;
  wireguardKey: string;
  overlayIndex: number;
  agentVersion: string | null;
  enrolledAt: number;
  revokedAt: number | null;
  /** The newest generation this node acked `applied`, and when (null: none yet). */
  appliedGeneration: number | null;
  appliedAt: number | null;
}

export interface NodesRepo {
  get(siteId: string, name: string): Promise<SiteNodeRecord | undefined>;
  /** A site's nodes, revoked ones included, by name. */
  list(siteId: string): Promise<SiteNodeRecord[]>;
  /** Every node of every site in a state (peers and broker credentials at start). */
  all(filter?: { state?: NodeState }): Promise<SiteNodeRecord[]>;
  /** Creates the node, or replaces its device (a new key, a new peer; same overlay address). */
  put(n: Omit<SiteNodeRecord, 'appliedGeneration' | 'appliedAt' | 'revokedAt'>): Promise<void>;
  revoke(siteId: string, name: string, now: number): Promise<boolean>;
  /** Non-revoked nodes (of any site) whose tunnel uses this WireGuard key, other than the one named. */
  holdersOfWireguardKey(publicKey: string, except: { siteId: string; name: string } | null): Promise<string[]>;
  setCredential(siteId: string, name: string, passwordHash: string): Promise<void>;
  setPendingCredential(siteId: string, name: string, passwordHash: string): Promise<void>;
  credentialHash(siteId: string, name: string): Promise<string | undefined>;
  pendingCredentialHash(siteId: string, name: string): Promise<string | undefined>;
  promoteCredential(siteId: string, name: string): Promise<void>;
  /** Records an `applied` ack of a node (never lowers the generation). */
  recordApplied(siteId: string, name: string, generation: number, now: number): Promise<void>;
  setAgentVersion(siteId: string, name: string, version: string): Promise<void>;
}

export interface ApiTokenRecord {
  id: string;
  name: string;
  role: Role;
  createdAt: number;
  revokedAt: number | null;
  /** null: never (tokens made before expiry existed, and the bootstrap admin in its 0600 file). */
  expiresAt: number | null;
}

export interface AuditEntry {
  id: number;
  at: number;
  actor: string;
  action: string;
  target: string;
  details: unknown;
}

export interface PolicyVersion {
  version: number;
  yaml: string;
  objects: unknown[];
  author: string;
  message: string;
  createdAt: number;
}

/** `paused`: ops held it; nothing more is published and no stage passes until it is resumed (acks are still recorded). */
export type RolloutState = 'running' | 'paused' | 'completed' | 'failed' | 'rolled-back' | 'superseded';

/** A stage covers explicit sites (the canary set) or a cumulative percentage of the targeted sites. */
export type StageSpec = { name: string; sites: string[] } | { name: string; percent: number };

export interface LabelSelector {
  matchLabels: Record<string, string>;
}

export interface RolloutRecord {
  id: number;
  kind: 'rollout' | 'rollback';
  policyVersion: number;
  selector: LabelSelector;
  stages: StageSpec[];
  auditWindowS: number;
  state: RolloutState;
  /** Index of the stage being rolled out (stages.length when all are done). */
  stage: number;
  /** When every site of the current stage acked `applied` (the audit window starts here). */
  stageAckedAt: number | null;
  reason: string | null;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
}

export interface RolloutSite {
  rolloutId: number;
  siteId: string;
  stage: number;
  policyVersion: number;
  generation: number | null;
  publishedAt: number | null;
  result: 'applied' | 'rejected' | null;
  code: string | null;
  reason: string | null;
  ackedAt: number | null;
}

export interface BundleRecord {
  siteId: string;
  generation: number;
  policyVersion: number;
  rolloutId: number | null;
  bundle: string;
  createdAt: number;
}

export interface AckRecord {
  siteId: string;
  generation: number;
  result: 'applied' | 'rejected';
  code: string | null;
  reason: string | null;
  at: string;
  receivedAt: number;
}

export interface SigningKeyRecord {
  keyId: string;
  /** base64 SPKI DER */
  publicKey: string;
  createdAt: number;
  activatedAt: number | null;
  retiredAt: number | null;
  untrustedAt: number | null;
}

export interface FlowQuery {
  siteId?: string;
  /** "Kind/namespace/name" or "Kind/name" as stored; matched exactly. */
  policy?: string;
  verdict?: EventVerdict;
  since?: number;
  until?: number;
  /** Only events stored after this one (a FlowRow's id), oldest first: how a follower reads what is new. */
  afterId?: number;
  limit: number;
}

export interface FlowRow extends Omit<VerdictRecord, 'policy' | 'at' | 'count'> {
  /** Increases in the order events were stored (not their `at`): a follower asks for what came after it. */
  id: number;
  siteId: string;
  /** The node that judged the packet, in a multi-node site (null: a one-device site). */
  node: string | null;
  seq: number;
  at: string;
  /** "Kind/namespace/name" (or "Kind/name" for cluster-scoped kinds); null when no policy decided. */
  policy: string | null;
  rule: string | null;
  count: number;
}

export interface TelemetryBatch {
  siteId: string;
  /** The node that sent it, in a multi-node site. */
  node?: string;
  /** The device that sent it (the site's enrolled identity key): each device's outbox numbers from 1. */
  device: string;
  seq: number;
  type: string;
  at: string;
  verdicts: VerdictRecord[];
  counters: CounterRecord[];
}

export interface RetentionCaps {
  /** Verdict and counter rows kept per site (oldest dropped first). */
  maxRowsPerSite: number;
  /** Rows older than this are dropped. */
  maxAgeMs: number;
}

export interface SitesRepo {
  create(id: string, spec: SiteSpec, now: number): Promise<SiteRecord>;
  get(id: string): Promise<SiteRecord | undefined>;
  byName(name: string): Promise<SiteRecord | undefined>;
  list(filter?: { state?: SiteState }): Promise<SiteRecord[]>;
  update(
    id: string,
    patch: Partial<Pick<SiteRecord, 'state' | 'drained' | 'identityKey' | 'wireguardKey' | 'overlayIndex' | 'enrolledAt' | 'revokedAt'>>,
  ): Promise<void>;
  /** Just the site's state (checked for every message a site sends). */
  state(id: string): Promise<SiteState | undefined>;
  /** The identity key of an enrolled site's device; undefined when the site is not enrolled. */
  enrolledDevice(id: string): Promise<string | undefined>;
  /** Sites other than `exceptId`, not revoked, whose tunnel uses this WireGuard public key. */
  holdersOfWireguardKey(publicKey: string, exceptId: string): Promise<string[]>;
  /** The highest overlay index held by a site or a node, 0 when none. */
  maxOverlayIndex(): Promise<number>;
  usedOverlayIndexes(): Promise<Set<number>>;
  setCredential(siteId: string, passwordHash: string, now: number): Promise<void>;
  /** A re-enrolled device's new password: accepted beside the current one until first used (promoteCredential). */
  setPendingCredential(siteId: string, passwordHash: string): Promise<void>;
  credentialHash(siteId: string): Promise<string | undefined>;
  pendingCredentialHash(siteId: string): Promise<string | undefined>;
  /** The pending password was used: it becomes the only one. */
  promoteCredential(siteId: string, now: number): Promise<void>;
  deleteCredential(siteId: string): Promise<void>;
}

export interface TokensRepo {
  addEnrollToken(t: EnrollTokenRecord & { createdBy: string }): Promise<void>;
  enrollToken(hash: string): Promise<EnrollTokenRecord | undefined>;
  /** Marks a token used; false when it was already used (a concurrent enrollment won). */
  useEnrollToken(hash: string, now: number): Promise<boolean>;
  invalidateSiteTokens(siteId: string, now: number): Promise<void>;
  /** Records a hub-issued enrollment challenge (by hash); drops expired ones; false when `max` are outstanding. */
  addChallenge(hash: string, expiresAt: number, now: number, max: number): Promise<boolean>;
  hasChallenge(hash: string, now: number): Promise<boolean>;
  /** Spends a challenge: true once, for an unexpired one. */
  useChallenge(hash: string, now: number): Promise<boolean>;
  addApiToken(t: ApiTokenRecord & { hash: string }): Promise<void>;
  apiTokenByHash(hash: string): Promise<ApiTokenRecord | undefined>;
  apiToken(id: string): Promise<ApiTokenRecord | undefined>;
  listApiTokens(): Promise<ApiTokenRecord[]>;
  revokeApiToken(id: string, now: number): Promise<boolean>;
}

export interface AuditRepo {
  record(e: Omit<AuditEntry, 'id'>): Promise<void>;
  list(q: { target?: string; limit: number }): Promise<AuditEntry[]>;
}

export interface PoliciesRepo {
  add(v: Omit<PolicyVersion, 'version'>): Promise<number>;
  get(version: number): Promise<PolicyVersion | undefined>;
  latest(): Promise<PolicyVersion | undefined>;
  history(limit: number): Promise<Omit<PolicyVersion, 'yaml' | 'objects'>[]>;
}

/** What the site list shows of a site's rollouts: its generation, latest bundle's policy version and last ack. */
export interface SiteRolloutSummary {
  generation: number;
  policyVersion: number | null;
  lastAck: AckRecord | null;
}

export interface RolloutsRepo {
  create(r: Omit<RolloutRecord, 'id'>, sites: { siteId: string; stage: number; policyVersion: number }[]): Promise<number>;
  get(id: number): Promise<RolloutRecord | undefined>;
  list(filter: { state?: RolloutState; limit: number }): Promise<RolloutRecord[]>;
  update(id: number, patch: Partial<Pick<RolloutRecord, 'state' | 'stage' | 'stageAckedAt' | 'reason' | 'updatedAt'>>): Promise<void>;
  sites(id: number): Promise<RolloutSite[]>;
  /** The rows of one stage whose sites are still enrolled. */
  liveSites(id: number, stage: number): Promise<RolloutSite[]>;
  /** How many still-enrolled sites a stage holds and how many of them acked `applied` (the engine's gate, counted in SQL). */
  stageCounts(id: number, stage: number): Promise<{ total: number; applied: number }>;
  /** A still-enrolled site of the rollout that rejected its bundle, if any. */
  firstRejected(id: number): Promise<RolloutSite | undefined>;
  /** Adds a site to a rollout (a site enrolled after it started); false when it already has a row. */
  join(id: number, siteId: string, stage: number, policyVersion: number): Promise<boolean>;
  markPublished(id: number, siteId: string, generation: number, now: number): Promise<void>;
  /** Records an ack on the rollout rows (running or completed) waiting for this site and generation; returns the rollout ids touched. */
  recordAck(siteId: string, generation: number, result: 'applied' | 'rejected', code: string | null, reason: string | null, now: number): Promise<number[]>;
  /** Rows of running or completed rollouts published to this site and not yet acked. */
  pendingForSite(siteId: string): Promise<RolloutSite[]>;
  /** Increments and returns the site's generation (monotonic, never reused). */
  nextGeneration(siteId: string): Promise<number>;
  generation(siteId: string): Promise<number>;
  addBundle(b: BundleRecord): Promise<void>;
  latestBundle(siteId: string): Promise<BundleRecord | undefined>;
  /** The latest bundle of every enrolled site (what the broker must hold retained). */
  latestBundles(): Promise<BundleRecord[]>;
  /** The newest bundle of a site older than the given generation. */
  bundleBefore(siteId: string, generation: number): Promise<BundleRecord | undefined>;
  addAck(a: AckRecord): Promise<void>;
  /**
   * The rollout lease's epoch as the store has it (the fencing token): an engine writes only while it
   * equals the epoch it acquired. PostgreSQL locks the row for the transaction, so a new leader's
   * increment waits for a write in flight. The embedded hub is always the leader, at epoch 0.
   */
  leaseEpoch(): Promise<number>;
  acks(siteId: string, limit: number): Promise<AckRecord[]>;
  /** Every site's summary in three queries (the site list of 10 000 sites must not cost 30 000). */
  siteSummaries(): Promise<Map<string, SiteRolloutSummary>>;
}

export interface TelemetryRepo {
  /** Stores a batch unless (site, seq) was seen; returns false for a duplicate. */
  ingest(b: TelemetryBatch, now: number): Promise<boolean>;
  flows(q: FlowQuery): Promise<FlowRow[]>;
  counters(q: Omit<FlowQuery, 'limit'>): Promise<{ siteId: string; policy: string | null; verdict: EventVerdict; packets: number; bytes: number }[]>;
  prune(caps: RetentionCaps, now: number): Promise<number>;
  /** The id of the newest stored event, 0 when none. */
  lastFlowId(): Promise<number>;
}

export interface KeysRepo {
  add(k: SigningKeyRecord): Promise<void>;
  list(): Promise<SigningKeyRecord[]>;
  update(keyId: string, patch: Partial<Pick<SigningKeyRecord, 'activatedAt' | 'retiredAt' | 'untrustedAt'>>): Promise<void>;
}

/** Every repo; what a transaction's fn receives, and what helpers that run in or out of one take. */
export interface StoreRepos {
  readonly sites: SitesRepo;
  readonly tokens: TokensRepo;
  readonly audit: AuditRepo;
  readonly policies: PoliciesRepo;
  readonly rollouts: RolloutsRepo;
  readonly telemetry: TelemetryRepo;
  readonly keys: KeysRepo;
  readonly nodes: NodesRepo;
}

export interface HubStore extends StoreRepos {
  readonly backend: 'sqlite' | 'postgres';
  /**
   * Runs fn in one transaction: all of its writes land, or none. Use `t`, not this store, inside fn.
   * `durable`: the commit is on disk when tx returns (for writes the hub acts on outside the store:
   * generations it publishes, credentials it hands out); other commits may be lost to a power cut,
   * never torn (SQLite; PostgreSQL commits are always durable).
   */
  tx<T>(fn: (t: StoreRepos) => Promise<T>, opts?: { durable?: boolean }): Promise<T>;
  close(): Promise<void>;
}
