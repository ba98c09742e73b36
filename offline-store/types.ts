// The public shape of the agent's offline store. Kept in one file so the agent can code against it
// while the implementation moves. The enrollment shapes come from protocol/enroll.ts, defined once.
import type { KeyObject } from 'node:crypto';
import type { EnrollResponse, EnrollWireguard } from '../protocol/index.ts';
import type { StoreError } from './errors.ts';

/** Milliseconds since the epoch. Injected so tests control time. */
export type Clock = () => number;

export interface OpenStoreOptions {
  clock?: Clock;
  /** Open without writing: no migration, no recovery; every write throws STORE_READ_ONLY. For `status`/`doctor`. */
  readonly?: boolean;
  /** 'full' = PRAGMA integrity_check (default), 'quick' = PRAGMA quick_check. */
  integrityCheck?: 'full' | 'quick';
  outbox?: Partial<OutboxLimits>;
  /** How many bundles to keep besides the last-known-good one (default 16). */
  bundleHistory?: number;
  /** Called for things the agent should log and count (recovery, outbox drops, failed writes). */
  onEvent?: (e: StoreEvent) => void;
  /** Test hook: PRAGMA max_page_count, to simulate a full disk on any filesystem. */
  maxPageCount?: number;
}

/** How the store came up. `recovered` means the old file was corrupt and was moved aside. */
export type OpenReport =
  | { kind: 'created'; schemaVersion: number }
  | { kind: 'opened'; schemaVersion: number; migratedFrom?: number }
  | { kind: 'recovered'; schemaVersion: number; movedTo: string; reason: string };

export type StoreEvent =
  | { type: 'recovered-corrupt'; path: string; movedTo: string; reason: string }
  | { type: 'outbox-dropped'; records: number; bytes: number; priority: OutboxPriority; reason: 'evicted' | 'refused' }
  | { type: 'write-failed'; error: StoreError };

export interface AgentStore {
  readonly path: string;
  readonly opened: OpenReport;
  readonly schemaVersion: number;
  /** False when opened readonly or when the file system turned out read-only at open. */
  readonly writable: boolean;
  readonly bundles: BundleStore;
  readonly identity: IdentityStore;
  readonly config: ConfigStore;
  readonly outbox: Outbox;
  readonly fqdn: FqdnStore;
  /** Runs the integrity check now (for `weft-agent doctor`). */
  checkIntegrity(mode?: 'full' | 'quick'): { ok: boolean; problems: string[] };
  close(): void;
}

// ---- bundles -------------------------------------------------------------------------------------

export type BundleStatus = 'received' | 'applied' | 'rejected';

export interface BundleRecord {
  id: number;
  /** The signed bytes exactly as received from the broker. */
  bytes: Buffer;
  /** hex sha256 of bytes; lets the agent spot a redelivered retained message. */
  sha256: string;
  /** null when the bytes could not even be parsed (forged, truncated). */
  generation: number | null;
  receivedAt: number;
  appliedAt: number | null;
  status: BundleStatus;
  rejectCode: string | null;
  rejectReason: string | null;
}

export interface BundleStore {
  /** Stores the bytes with status `received`. Prunes history beyond `bundleHistory` (never the LKG). */
  recordReceived(bytes: Uint8Array, generation: number | null): BundleRecord;
  /**
   * Points last-known-good at a bundle, in its own committed transaction. Call it BEFORE applying:
   * a crash mid-apply then restarts from the new bundle and the kernel never keeps a mix.
   */
  setLastKnownGood(id: number): void;
  /** Status `applied` with applied_at = now. */
  markApplied(id: number): void;
  /**
   * Status `rejected` with a code (e.g. a BundleError code) and a reason. If it was the LKG (apply failed
   * after the pointer moved), the pointer falls back to the newest applied bundle, or null.
   */
  markRejected(id: number, code: string, reason: string): void;
  lastKnownGood(): BundleRecord | null;
  lastApplied(): BundleRecord | null;
  lastRejected(): BundleRecord | null;
  get(id: number): BundleRecord | null;
  findBySha256(sha256: string): BundleRecord | null;
  /** Newest first. */
  list(limit?: number): BundleRecord[];
}

// ---- identity ------------------------------------------------------------------------------------

/**
 * The device's keys. JSON.stringify and util.inspect print only the public halves, so the object can be
 * passed to a logger without leaking; the private halves are reached through the KeyObjects or methods.
 */
export interface DeviceIdentity {
  readonly ed25519PrivateKey: KeyObject;
  readonly ed25519PublicKey: KeyObject;
  readonly x25519PrivateKey: KeyObject;
  readonly x25519PublicKey: KeyObject;
  /** base64 SPKI DER of the Ed25519 public key (EnrollRequest.identityPublicKey). */
  readonly identityPublicKey: string;
  /** WireGuard public key: base64 of the raw 32-byte X25519 key. */
  readonly wireguardPublicKey: string;
  /** WireGuard private key, base64 raw 32 bytes. A method so it never shows up in a spread or a dump. */
  wireguardPrivateKey(): string;
  readonly createdAt: number;
  toJSON(): Record<string, unknown>;
}

export type WireguardSettings = EnrollWireguard;

/** What enrollment gave the device: the protocol's EnrollResponse plus the hub CA fingerprint. */
export interface EnrollmentInput extends Pick<EnrollResponse, 'siteId' | 'node' | 'broker' | 'signingKeys' | 'signingKeysVersion' | 'wireguard'> {
  heartbeatIntervalS?: number;
  /** sha256 fingerprint of the hub CA the device pinned at enrollment (hex or the usual AA:BB form). */
  hubCaFingerprint: string;
}

/** As stored. toJSON/inspect redact broker.password. */
export interface Enrollment extends EnrollmentInput {
  enrolledAt: number;
  toJSON(): Record<string, unknown>;
}

export interface IdentityStore {
  get(): DeviceIdentity | null;
  /** Returns the stored identity or generates Ed25519 + X25519 keys and stores them. */
  getOrCreate(): DeviceIdentity;
  /** Replaces the keys (re-keying). Private keys must be Ed25519 and X25519. */
  set(keys: { ed25519PrivateKey: KeyObject; x25519PrivateKey: KeyObject }): DeviceIdentity;
  enrollment(): Enrollment | null;
  saveEnrollment(e: EnrollmentInput): Enrollment;
  /** Replaces the trusted signing keys and their set's version (a verified key set from broadcast/#). Throws STORE_NOT_ENROLLED. */
  updateSigningKeys(keys: { keyId: string; publicKey: string }[], version?: number): void;
  clearEnrollment(): void;
}

// ---- config --------------------------------------------------------------------------------------

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

export interface ConfigStore {
  get<T extends JsonValue = JsonValue>(key: string): T | undefined;
  set(key: string, value: JsonValue): void;
  delete(key: string): boolean;
  all(): Record<string, JsonValue>;
}

// ---- outbox --------------------------------------------------------------------------------------

/** high: acks, status, rejections (never evicted). low: sampled flows, verdict batches (evicted oldest first). */
export type OutboxPriority = 'high' | 'low';

export interface OutboxLimits {
  /** Default 10 000 records. */
  maxRecords: number;
  /** Sum of topic + payload bytes. Default 16 MiB. */
  maxBytes: number;
}

export interface OutboxRecord {
  /** Monotonic, never reused (also across restarts and acks). */
  seq: number;
  topic: string;
  payload: Buffer;
  priority: OutboxPriority;
  createdAt: number;
}

export interface AppendResult {
  /** null: a low-priority record that found the outbox full of high-priority ones and was dropped (counted). */
  seq: number | null;
  /** Low-priority records evicted to make room for this one. */
  evicted: { records: number; bytes: number };
}

export interface OutboxStats {
  depth: number;
  bytes: number;
  limits: OutboxLimits;
  /** Persisted: survives restarts, so losses are reported even after a reboot. */
  lost: { records: number; bytes: number; highRefused: number };
  oldestCreatedAt: number | null;
}

export interface Outbox {
  /**
   * Adds a record; evicts the oldest low-priority records when a cap would be exceeded. Stored high-priority
   * records are only ever removed by ack(). When everything left is high-priority and there is still no room:
   * a new low record is dropped itself (seq null, counted in lost); a new high record is refused with
   * StoreError STORE_OUTBOX_FULL (counted in lost.highRefused) so the caller knows. A record larger than
   * maxBytes on its own throws STORE_OUTBOX_RECORD_TOO_LARGE.
   */
  append(topic: string, payload: Uint8Array | string, priority: OutboxPriority): AppendResult;
  /** Up to `batch` oldest records, in seq order. Does not remove them. */
  peek(batch: number): OutboxRecord[];
  /** Removes every record with seq <= upToSeq, after the broker confirmed them. Returns how many. */
  ack(upToSeq: number): number;
  depth(): number;
  bytes(): number;
  lost(): OutboxStats['lost'];
  stats(): OutboxStats;
}

// ---- learned FQDN addresses -----------------------------------------------------------------------

/** An address learned from a DNS answer for a domainNames pattern, until `expiresAt` (ms since the epoch). */
export interface LearnedAddress {
  addr: string;
  pattern: string;
  expiresAt: number;
}

export interface FqdnStore {
  /** Replaces what is stored with `entries` (the kernel's map as it is now), in one transaction. */
  replaceAll(entries: readonly LearnedAddress[]): void;
  /**
   * Copies the kernel's entries as `each` yields them, in one transaction, writing only rows that are new
   * or whose expiry moved (SQLite compares; unchanged rows are not rewritten), and deleting what expired
   * by `now`. Returns how many rows were written.
   */
  sync(each: (put: (addr: string, pattern: string, expiresAt: number) => void) => void, now?: number): number;
  /** What has not expired at `now` (default: the store's clock). */
  unexpired(now?: number): LearnedAddress[];
  /** The same, one row at a time in address order, without holding them all. */
  forEachUnexpired(fn: (e: LearnedAddress) => void, now?: number): void;
  count(): number;
  /** The distinct patterns of the stored rows. */
  patterns(): string[];
}
