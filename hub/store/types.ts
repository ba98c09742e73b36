// The hub's store, one interface per area. SQLite (better-sqlite3, WAL) implements it today; a Postgres
// implementation for replicated hubs would implement the same interface (DESIGN.md "Past one machine").
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
  usedAt: number | null;
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
  seq: number;
  at: string;
  /** "Kind/namespace/name" (or "Kind/name" for cluster-scoped kinds); null when no policy decided. */
  policy: string | null;
  rule: string | null;
  count: number;
}

export interface TelemetryBatch {
  siteId: string;
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
  create(id: string, spec: SiteSpec, now: number): SiteRecord;
  get(id: string): SiteRecord | undefined;
  byName(name: string): SiteRecord | undefined;
  list(filter?: { state?: SiteState }): SiteRecord[];
  update(
    id: string,
    patch: Partial<Pick<SiteRecord, 'state' | 'drained' | 'identityKey' | 'wireguardKey' | 'overlayIndex' | 'enrolledAt' | 'revokedAt'>>,
  ): void;
  /** Just the site's state (checked for every message a site sends). */
  state(id: string): SiteState | undefined;
  /** The identity key of an enrolled site's device; undefined when the site is not enrolled. */
  enrolledDevice(id: string): string | undefined;
  /** Sites other than `exceptId`, not revoked, whose tunnel uses this WireGuard public key. */
  holdersOfWireguardKey(publicKey: string, exceptId: string): string[];
  /** The highest overlay index held by a site, 0 when none. */
  maxOverlayIndex(): number;
  usedOverlayIndexes(): Set<number>;
  setCredential(siteId: string, passwordHash: string, now: number): void;
  /** A re-enrolled device's new password: accepted beside the current one until first used (promoteCredential). */
  setPendingCredential(siteId: string, passwordHash: string): void;
  credentialHash(siteId: string): string | undefined;
  pendingCredentialHash(siteId: string): string | undefined;
  /** The pending password was used: it becomes the only one. */
  promoteCredential(siteId: string, now: number): void;
  deleteCredential(siteId: string): void;
}

export interface TokensRepo {
  addEnrollToken(t: EnrollTokenRecord & { createdBy: string }): void;
  enrollToken(hash: string): EnrollTokenRecord | undefined;
  /** Marks a token used; false when it was already used (a concurrent enrollment won). */
  useEnrollToken(hash: string, now: number): boolean;
  invalidateSiteTokens(siteId: string, now: number): void;
  /** Records a hub-issued enrollment challenge (by hash); drops expired ones; false when `max` are outstanding. */
  addChallenge(hash: string, expiresAt: number, now: number, max: number): boolean;
  hasChallenge(hash: string, now: number): boolean;
  /** Spends a challenge: true once, for an unexpired one. */
  useChallenge(hash: string, now: number): boolean;
  addApiToken(t: ApiTokenRecord & { hash: string }): void;
  apiTokenByHash(hash: string): ApiTokenRecord | undefined;
  apiToken(id: string): ApiTokenRecord | undefined;
  listApiTokens(): ApiTokenRecord[];
  revokeApiToken(id: string, now: number): boolean;
}

export interface AuditRepo {
  record(e: Omit<AuditEntry, 'id'>): void;
  list(q: { target?: string; limit: number }): AuditEntry[];
}

export interface PoliciesRepo {
  add(v: Omit<PolicyVersion, 'version'>): number;
  get(version: number): PolicyVersion | undefined;
  latest(): PolicyVersion | undefined;
  history(limit: number): Omit<PolicyVersion, 'yaml' | 'objects'>[];
}

/** What the site list shows of a site's rollouts: its generation, latest bundle's policy version and last ack. */
export interface SiteRolloutSummary {
  generation: number;
  policyVersion: number | null;
  lastAck: AckRecord | null;
}

export interface RolloutsRepo {
  create(r: Omit<RolloutRecord, 'id'>, sites: { siteId: string; stage: number; policyVersion: number }[]): number;
  get(id: number): RolloutRecord | undefined;
  list(filter: { state?: RolloutState; limit: number }): RolloutRecord[];
  update(id: number, patch: Partial<Pick<RolloutRecord, 'state' | 'stage' | 'stageAckedAt' | 'reason' | 'updatedAt'>>): void;
  sites(id: number): RolloutSite[];
  /** The rows of one stage whose sites are still enrolled. */
  liveSites(id: number, stage: number): RolloutSite[];
  /** How many still-enrolled sites a stage holds and how many of them acked `applied` (the engine's gate, counted in SQL). */
  stageCounts(id: number, stage: number): { total: number; applied: number };
  /** A still-enrolled site of the rollout that rejected its bundle, if any. */
  firstRejected(id: number): RolloutSite | undefined;
  /** Adds a site to a rollout (a site enrolled after it started); false when it already has a row. */
  join(id: number, siteId: string, stage: number, policyVersion: number): boolean;
  markPublished(id: number, siteId: string, generation: number, now: number): void;
  /** Records an ack on the rollout rows (running or completed) waiting for this site and generation; returns the rollout ids touched. */
  recordAck(siteId: string, generation: number, result: 'applied' | 'rejected', code: string | null, reason: string | null, now: number): number[];
  /** Rows of running or completed rollouts published to this site and not yet acked. */
  pendingForSite(siteId: string): RolloutSite[];
  /** Increments and returns the site's generation (monotonic, never reused). */
  nextGeneration(siteId: string): number;
  generation(siteId: string): number;
  addBundle(b: BundleRecord): void;
  latestBundle(siteId: string): BundleRecord | undefined;
  /** The latest bundle of every enrolled site (what the broker must hold retained). */
  latestBundles(): BundleRecord[];
  /** The newest bundle of a site older than the given generation. */
  bundleBefore(siteId: string, generation: number): BundleRecord | undefined;
  addAck(a: AckRecord): void;
  acks(siteId: string, limit: number): AckRecord[];
  /** Every site's summary in three queries (the site list of 10 000 sites must not cost 30 000). */
  siteSummaries(): Map<string, SiteRolloutSummary>;
}

export interface TelemetryRepo {
  /** Stores a batch unless (site, seq) was seen; returns false for a duplicate. */
  ingest(b: TelemetryBatch, now: number): boolean;
  flows(q: FlowQuery): FlowRow[];
  /** The id of the newest stored event, 0 when none. */
  lastFlowId(): number;
  counters(q: Omit<FlowQuery, 'limit'>): { siteId: string; policy: string | null; verdict: EventVerdict; packets: number; bytes: number }[];
  prune(caps: RetentionCaps, now: number): number;
}

export interface KeysRepo {
  add(k: SigningKeyRecord): void;
  list(): SigningKeyRecord[];
  update(keyId: string, patch: Partial<Pick<SigningKeyRecord, 'activatedAt' | 'retiredAt' | 'untrustedAt'>>): void;
}

export interface HubStore {
  readonly sites: SitesRepo;
  readonly tokens: TokensRepo;
  readonly audit: AuditRepo;
  readonly policies: PoliciesRepo;
  readonly rollouts: RolloutsRepo;
  readonly telemetry: TelemetryRepo;
  readonly keys: KeysRepo;
  /**
   * Runs fn in one transaction: all of its writes land, or none. `durable`: the commit is on disk when
   * tx returns (for writes the hub acts on outside the store: generations it publishes, credentials it
   * hands out); other commits may be lost to a power cut, never torn.
   */
  tx<T>(fn: () => T, opts?: { durable?: boolean }): T;
  close(): void;
}
