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
  /**
   * Whether every still-enrolled site of a stage acked `applied` (the engine's gate, in SQL). It stops at
   * the first site still pending: a rollout steps up to 20 times a second while thousands of acks come in.
   */
  stageApplied(id: number, stage: number): Promise<boolean>;
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
  /** nextGeneration for many distinct sites in one statement (a stage of thousands); same order as given. */
  nextGenerations(siteIds: readonly string[]): Promise<number[]>;
  generation(siteId: string): Promise<number>;
  addBundle(b: BundleRecord): Promise<void>;
  /** addBundle for many, in one statement. */
  addBundles(bs: readonly BundleRecord[]): Promise<void>;
  /** markPublished for many sites of one rollout, in one statement. */
  markPublishedMany(id: number, rows: readonly { siteId: string; generation: number }[], now: number): Promise<void>;
  latestBundle(siteId: string): Promise<BundleRecord | undefined>;
  /** The latest bundle of every enrolled site (what the broker must hold retained). */
  latestBundles(): Promise<BundleRecord[]>;
  /** The newest bundle of a site older than the given generation. */
  bundleBefore(siteId: string, generation: number): Promise<BundleRecord | undefined>;
  addAck(a: AckRecord): Promise<void>;
  /**
   * addAck and recordAck for many acks in a few statements (a burst of thousands); returns the
   * rollout ids touched, each once. Of several acks of one site and generation the first counts.
   */
  recordAcks(acks: readonly AckRecord[]): Promise<number[]>;
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
  /**
   * Records the keys of many batches without rows (acks, which share the outbox sequence) in one
   * statement; per key, false when it was seen (before, or earlier in the same call).
   */
  ingestKeys(keys: readonly Omit<TelemetryBatch, 'verdicts' | 'counters'>[], now: number): Promise<boolean[]>;
  flows(q: FlowQuery): Promise<FlowRow[]>;
  counters(q: Omit<FlowQuery, 'limit'>): Promise<{ siteId: string; policy: string | null; verdict: EventVerdict; packets: number; bytes: number }[]>;
  prune(caps: RetentionCaps, now: number): Promise<number>;
  /** The id of the newest stored event, 0 when none. */
  lastFlowId(): Promise<number>;
}

/** A site's health change as a hub's health model saw it (router/health's SiteHealthEvent). */
export interface HealthEventRecord {
  siteId: string;
  from: string;
  to: string;
  at: number;
  reason: string;
}

export interface HealthEventsRepo {
  /**
   * Stores a health change unless the site's same change (from -> to) is already stored within
   * `dedupeMs` of `at`: every hub replica's health model sees the same broker message and records it.
   * Keeps the site's newest `keep` changes. False for a duplicate. On PostgreSQL run it inside tx(): it
   * holds the site's advisory lock until the commit, so two replicas cannot both find nothing and insert.
   */
  record(e: HealthEventRecord, opts: { dedupeMs: number; keep: number }): Promise<boolean>;
  /** The site's changes, newest first. */
  list(siteId: string, limit: number): Promise<HealthEventRecord[]>;
}

export interface KeysRepo {
  add(k: SigningKeyRecord): Promise<void>;
  list(): Promise<SigningKeyRecord[]>;
  update(keyId: string, patch: Partial<Pick<SigningKeyRecord, 'activatedAt' | 'retiredAt' | 'untrustedAt'>>): Promise<void>;
}

/** One hub node past one machine: its WireGuard identity and overlay address, which enrollment hands every site. */
export interface HubNodeRecord {
  name: string;
  /** The node's WireGuard public key (base64). */
  wireguardKey: string;
  /** host:port sites dial. */
  endpoint: string;
  /** The node's own overlay index (OverlayPlan.addresses): reserved, never a site's. */
  overlayIndex: number;
  /** Last time the node said it was alive (epoch ms). */
  seenAt: number;
}

/** A site's health as the replica that last saw it change wrote it: what a replica starting or taking over reads first. */
export interface SiteHealthRecord {
  siteId: string;
  health: 'online' | 'degraded' | 'draining' | 'offline';
  reason: string;
  /** When health last changed (epoch ms). */
  since: number;
  /** The hub node that wrote it. */
  by: string;
}

export interface ClusterRepo {
  /** Registers a node or refreshes it (key, endpoint, index, seenAt). */
  upsertNode(n: HubNodeRecord): Promise<void>;
  nodes(): Promise<HubNodeRecord[]>;
  removeNode(name: string): Promise<boolean>;
  /** Writes a site's health unless a newer change (a later `since`) is stored already. */
  putHealth(h: SiteHealthRecord): Promise<void>;
  health(): Promise<SiteHealthRecord[]>;
}

/** An agent (or appliance root filesystem) release the hub holds: the signed manifest, its bytes on disk. */
export interface ReleaseRecord {
  version: string;
  kind: 'agent' | 'rootfs';
  /** The signed manifest (protocol/release.ts SignedRelease) as JSON. */
  signed: string;
  sha256: string;
  size: number;
  minHubVersion: string;
  /** The artifact's bytes arrived and matched the manifest. */
  complete: boolean;
  uploadedBy: string;
  uploadedAt: number;
}

export interface UpdateRolloutRecord {
  id: number;
  version: string;
  kind: 'agent' | 'rootfs';
  selector: LabelSelector;
  stages: StageSpec[];
  /** Same states as policy rollouts: the same engine decides (rollout/state-machine.ts). */
  state: RolloutState;
  stage: number;
  stageAckedAt: number | null;
  reason: string | null;
  deadlineS: number;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
}

export interface UpdateSite {
  rolloutId: number;
  siteId: string;
  stage: number;
  publishedAt: number | null;
  result: 'blessed' | 'failed' | null;
  code: string | null;
  reason: string | null;
  reportedAt: number | null;
}

/** The fleet view: which version a site runs and how its last update ended. */
export interface SiteVersion {
  siteId: string;
  version: string | null;
  lastUpdate: { rolloutId: number; version: string; state: string; code: string | null; reason: string | null; at: number } | null;
}

export interface UpdatesRepo {
  addRelease(r: ReleaseRecord): Promise<void>;
  markReleaseComplete(version: string, kind: ReleaseRecord['kind']): Promise<void>;
  release(version: string, kind: ReleaseRecord['kind']): Promise<ReleaseRecord | undefined>;
  releases(): Promise<ReleaseRecord[]>;
  create(r: Omit<UpdateRolloutRecord, 'id'>, sites: { siteId: string; stage: number }[]): Promise<number>;
  get(id: number): Promise<UpdateRolloutRecord | undefined>;
  list(limit: number): Promise<UpdateRolloutRecord[]>;
  update(id: number, patch: Partial<Pick<UpdateRolloutRecord, 'state' | 'stage' | 'stageAckedAt' | 'reason' | 'updatedAt'>>): Promise<void>;
  sites(id: number): Promise<UpdateSite[]>;
  markPublished(id: number, siteId: string, now: number): Promise<void>;
  /** Records a site's report on its row of that rollout (if it has one) and its version; false when there is no such row. */
  recordReport(
    siteId: string,
    r: { rolloutId: number; version: string; from: string; state: string; code: string | null; reason: string | null },
    now: number,
  ): Promise<boolean>;
  /** A site's running version, as its agent said (status or report). */
  setSiteVersion(siteId: string, version: string, now: number): Promise<void>;
  fleet(): Promise<SiteVersion[]>;
}

/** A site link as ops declare it (hub/mesh/links.ts resolves links into pairs). */
export type LinkSpec =
  | { kind: 'pair'; a: string; b: string }
  | {
      kind: 'selector';
      /** Sites carrying all of these labels... */
      from: Record<string, string>;
      /** ...link with the sites carrying all of these... */
      to: Record<string, string>;
      /** ...when both have the same value for each of these label keys (e.g. ["region"]). */
      same: string[];
    };

export interface LinkRecord {
  id: number;
  spec: LinkSpec;
  createdBy: string;
  createdAt: number;
}

/** Declared site links (hub/mesh/links.ts turns them into the pairs of sites that get peers). */
export interface LinksRepo {
  add(spec: LinkSpec, createdBy: string, now: number): Promise<LinkRecord>;
  list(): Promise<LinkRecord[]>;
  get(id: number): Promise<LinkRecord | undefined>;
  /** false when there was no such link. */
  remove(id: number): Promise<boolean>;
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
  readonly cluster: ClusterRepo;
  readonly health: HealthEventsRepo;
  readonly updates: UpdatesRepo;
  readonly links: LinksRepo;
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
