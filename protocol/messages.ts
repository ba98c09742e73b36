// Message schemas (v1) for every topic, with pure validators. A malformed payload from a site
// is a ProtocolError with a code: the hub counts and ignores it, never crashes.
import { WeftError } from '../base/pure.ts';
import type { MeshReport } from './mesh.ts';

export type ProtocolErrorCode = 'PROTO_NOT_JSON' | 'PROTO_BAD_VERSION' | 'PROTO_BAD_FIELD' | 'PROTO_TOO_LARGE';

/** `path` is the field inside the payload; the message starts with it, as the hub's logs show it. */
export class ProtocolError extends WeftError<ProtocolErrorCode> {
  override readonly name = 'ProtocolError';
  constructor(
    code: ProtocolErrorCode,
    readonly path: string,
    message: string,
  ) {
    super(code, path ? `${path}: ${message}` : message);
  }
}

export const VERSION = 1;
/** Largest payload either side accepts on any topic but bundles. */
const MAX_MESSAGE_BYTES = 1 << 20;

export interface StatusMessage {
  v: 1;
  state: 'online' | 'offline';
  /** Agent version and boot id help tell restarts from reconnects. */
  agentVersion?: string;
  bootId?: string;
}

export interface ServiceCheck {
  name: string;
  ok: boolean;
  detail?: string;
}

/** Why a site cannot enforce policy in the kernel: the coded error of its last attempt to load the datapath. */
export interface NotEnforcing {
  code: string;
  reason: string;
}

export interface HeartbeatMessage {
  v: 1;
  at: string;
  nodeReady: boolean;
  enforcing: boolean;
  appliedGeneration: number;
  checks: ServiceCheck[];
  /** 0..1 of capacity in use. */
  load: number;
  link: { reconnects: number; outboxDepth: number; outboxLost: number };
  tunnel?: { handshakeAgeS: number | null };
  podsAttached?: number;
  /**
   * A node of a multi-node site: the services (site service names) with a ready pod on this node, from
   * the k3s inventory. The router sends users only to nodes that serve the service. Absent: not known.
   */
  serves?: string[];
  /**
   * Packets are filtered in the kernel (the libbpf datapath is loaded). Absent from agents before it:
   * the hub then reads their `datapath` check (router/health/state-machine.ts kernelEnforcingOf).
   */
  kernelEnforcing?: boolean;
  /** Why not, present when kernelEnforcing is false. */
  notEnforcing?: NotEnforcing;
}

export interface AckMessage {
  v: 1;
  generation: number;
  result: 'applied' | 'rejected';
  /** Error code when rejected (BUNDLE_*, POLICY_*, DATAPATH_*). */
  code?: string;
  reason?: string;
  at: string;
  /**
   * Per-site outbox sequence number (shared with events), set by the agent's link when it drains the ack
   * from the outbox; the hub dedupes a redelivered ack on (site, seq). Optional: agents before it send none.
   */
  seq?: number;
}

export type EventVerdict = 'allow' | 'deny' | 'audit';

export interface VerdictRecord {
  at: string;
  generation: number;
  endpoint: string;
  direction: 'ingress' | 'egress';
  verdict: EventVerdict;
  proto: number;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  /** The rule that decided; tier (Admin, Baseline) for a ClusterNetworkPolicy, ruleName when the rule has one. */
  policy: { kind: string; tier?: string; namespace?: string; name: string; rule: string; ruleName?: string } | null;
  count?: number;
  /** The linked site the other end of the flow is at (its address is in that site's mapped block). */
  remoteSite?: string;
}

export interface CounterRecord {
  policy: { kind: string; namespace?: string; name: string; rule: string } | null;
  verdict: EventVerdict;
  packets: number;
  bytes: number;
}

export interface EventsMessage {
  v: 1;
  /** Per-site sequence number from the agent's outbox; the hub dedupes on (site, seq). */
  seq: number;
  at: string;
  type: 'verdicts' | 'counters' | 'outbox-loss' | 'bundle-rejected' | 'update';
  verdicts?: VerdictRecord[];
  counters?: CounterRecord[];
  /** For 'outbox-loss': how many low-priority records were dropped since the last report. */
  lost?: number;
  /** For 'bundle-rejected': the code and reason. */
  code?: string;
  reason?: string;
  /** For 'update': how an update ended on the site (sent through the outbox, so a site that rolled back while cut off still tells). */
  update?: UpdateReport;
}

export interface UpdateReport {
  /** The hub's update rollout (0: installed by hand). */
  rolloutId: number;
  version: string;
  from: string;
  state: 'blessed' | 'rolled-back' | 'refused';
  code?: string;
  reason?: string;
}

/** hub -> site, retained on site/<id>/update: install this agent release (protocol/release.ts). */
export interface UpdateOrderMessage {
  v: 1;
  rolloutId: number;
  release: { format: number; keyId: string; payload: string; signature: string };
  /** Where the artifact is served, with HTTP Range support. */
  url: string;
  /** The health gate's deadline. */
  deadlineS: number;
}

export interface SigningKeysMessage {
  v: 1;
  /** base64 SPKI DER Ed25519 public keys by key id. Read by agents before signed sets; newer agents trust only `set`. */
  keys: { keyId: string; publicKey: string }[];
  /**
   * The same keys as a signed set (policy/key-set.ts SignedKeySet): signed by a key the agent already
   * trusts, with a version that only goes up. Absent from hubs before it; such a message changes nothing.
   */
  set?: { format: number; keyId: string; payload: string; signature: string };
}

type Check = (v: unknown, path: string) => void;

function fail(path: string, msg: string): never {
  throw new ProtocolError('PROTO_BAD_FIELD', path, msg);
}
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str: Check = (v, p) => {
  if (typeof v !== 'string' || v.length > 4096) fail(p, 'must be a string');
};
const text =
  (max: number): Check =>
  (v, p) => {
    if (typeof v !== 'string' || v.length > max) fail(p, `must be a string of at most ${max}`);
  };
const bool: Check = (v, p) => {
  if (typeof v !== 'boolean') fail(p, 'must be a boolean');
};
const int: Check = (v, p) => {
  if (!Number.isSafeInteger(v) || (v as number) < 0) fail(p, 'must be a non-negative integer');
};
const num: Check = (v, p) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(p, 'must be a number');
};
const oneOf =
  (...vals: string[]): Check =>
  (v, p) => {
    if (!vals.includes(v as string)) fail(p, `must be one of ${vals.join(', ')}`);
  };
const opt =
  (c: Check): Check =>
  (v, p) => {
    if (v !== undefined) c(v, p);
  };
const arr =
  (c: Check, max = 10_000): Check =>
  (v, p) => {
    if (!Array.isArray(v) || v.length > max) fail(p, `must be an array of at most ${max}`);
    v.forEach((x, i) => c(x, `${p}[${i}]`));
  };
const obj =
  (shape: Record<string, Check>): Check =>
  (v, p) => {
    if (!isObj(v)) fail(p, 'must be an object');
    for (const [k, c] of Object.entries(shape)) c(v[k], p ? `${p}.${k}` : k);
  };
const nullable =
  (c: Check): Check =>
  (v, p) => {
    if (v !== null) c(v, p);
  };

const labelMap: Check = (v, p) => {
  if (!isObj(v) || Object.keys(v).length > 64) fail(p, 'must be an object of at most 64 labels');
  for (const [k, x] of Object.entries(v)) if (k.length > 317 || typeof x !== 'string' || x.length > 63) fail(`${p}.${k}`, 'must be a label value');
};

const policyRef = nullable(obj({ kind: str, tier: opt(str), namespace: opt(str), name: str, rule: str, ruleName: opt(str) }));

const schemas = {
  status: obj({ v: num, state: oneOf('online', 'offline'), agentVersion: opt(str), bootId: opt(str) }),
  heartbeat: obj({
    v: num,
    at: str,
    nodeReady: bool,
    enforcing: bool,
    appliedGeneration: int,
    checks: arr(obj({ name: str, ok: bool, detail: opt(str) }), 256),
    load: num,
    link: obj({ reconnects: int, outboxDepth: int, outboxLost: int }),
    tunnel: opt(obj({ handshakeAgeS: nullable(num) })),
    podsAttached: opt(int),
    serves: opt(arr(text(253), 256)),
    kernelEnforcing: opt(bool),
    notEnforcing: opt(obj({ code: str, reason: str })),
  }),
  ack: obj({ v: num, generation: int, result: oneOf('applied', 'rejected'), code: opt(str), reason: opt(str), at: str, seq: opt(int) }),
  events: obj({
    v: num,
    seq: int,
    at: str,
    type: oneOf('verdicts', 'counters', 'outbox-loss', 'bundle-rejected', 'update'),
    verdicts: opt(
      arr(
        obj({
          at: str,
          generation: int,
          endpoint: str,
          direction: oneOf('ingress', 'egress'),
          verdict: oneOf('allow', 'deny', 'audit'),
          proto: int,
          src: str,
          dst: str,
          sport: int,
          dport: int,
          policy: policyRef,
          count: opt(int),
          remoteSite: opt(text(63)),
        }),
      ),
    ),
    counters: opt(arr(obj({ policy: policyRef, verdict: oneOf('allow', 'deny', 'audit'), packets: int, bytes: int }))),
    lost: opt(int),
    code: opt(str),
    reason: opt(str),
    update: opt(
      obj({ rolloutId: int, version: text(32), from: text(32), state: oneOf('blessed', 'rolled-back', 'refused'), code: opt(str), reason: opt(str) }),
    ),
  }),
  update: obj({
    v: num,
    rolloutId: int,
    release: obj({ format: num, keyId: str, payload: text(4096), signature: str }),
    url: str,
    deadlineS: int,
  }),
  mesh: obj({
    v: num,
    at: str,
    exportPrefix: nullable(text(49)),
    endpoints: arr(text(64), 16),
    namespaces: arr(obj({ name: text(253), labels: labelMap }), 1000),
    pods: arr(obj({ namespace: text(253), name: text(253), labels: labelMap, ips: arr(text(45), 4) }), 4096),
    paths: arr(obj({ peer: text(63), state: oneOf('direct', 'relayed', 'down'), handshakeAgeS: nullable(num), since: str }), 1000),
  }),
  keys: obj({
    v: num,
    keys: arr(obj({ keyId: str, publicKey: str }), 64),
    set: opt(obj({ format: num, keyId: str, payload: text(65_536), signature: str })),
  }),
};

interface Messages {
  status: StatusMessage;
  heartbeat: HeartbeatMessage;
  ack: AckMessage;
  events: EventsMessage;
  keys: SigningKeysMessage;
  update: UpdateOrderMessage;
  mesh: MeshReport;
}

/** Parses and validates a payload for a topic kind; throws ProtocolError. */
export function decode<K extends keyof Messages>(kind: K, payload: Uint8Array | string): Messages[K] {
  const size = typeof payload === 'string' ? payload.length : payload.byteLength;
  if (size > MAX_MESSAGE_BYTES) throw new ProtocolError('PROTO_TOO_LARGE', '', `payload of ${size} bytes exceeds ${MAX_MESSAGE_BYTES}`);
  let v: unknown;
  try {
    v = JSON.parse(typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8'));
  } catch {
    throw new ProtocolError('PROTO_NOT_JSON', '', 'payload is not JSON');
  }
  if (!isObj(v) || v.v !== VERSION) throw new ProtocolError('PROTO_BAD_VERSION', 'v', `must be ${VERSION}`);
  schemas[kind](v, '');
  return v as unknown as Messages[K];
}

export function encode<K extends keyof Messages>(_kind: K, msg: Messages[K]): Buffer {
  return Buffer.from(JSON.stringify(msg), 'utf8');
}
