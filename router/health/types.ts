// The health model the router owns, and every hub replica and standalone router runs: one pure state
// machine per site (state-machine.ts), a stateful model that emits events at once (model.ts), an MQTT
// monitor feeding it from the broker's status and heartbeat topics (monitor.ts), and the SitesView
// that joins it with site records (sites-view.ts). The hub serves it over HTTP (hub/health/routes.ts).
import type { EventEmitter } from 'node:events';
import type { HeartbeatMessage, NotEnforcing, ServiceCheck } from '../../protocol/index.ts';
import type { RoutableSite, SiteHealth, SiteHealthEvent, SitesView } from '../sites-view.ts';

export type { SiteHealth, SiteHealthEvent };

export interface HealthConfig {
  /** How often agents send heartbeats. Default 5000 ms. */
  heartbeatIntervalMs: number;
  /** A site is stale, hence offline, after this many missed heartbeats. Default 3. */
  missedHeartbeats: number;
  /** Hysteresis: good heartbeats in a row before a site goes up (offline/degraded -> online). Default 2. */
  upAfter: number;
}

export const DEFAULT_HEALTH_CONFIG: HealthConfig = { heartbeatIntervalMs: 5000, missedHeartbeats: 3, upAfter: 2 };

/** What the state machine consumes. `at` is the hub's clock in ms (injected, never read inside). */
export type HealthInput =
  /**
   * The site's retained status topic. `retained` marks a message replayed from the broker's store
   * (warm start after a hub restart): a retained `online` is trusted at once and then has to be
   * confirmed by heartbeats before it goes stale; a live `online` waits for heartbeats (hysteresis).
   */
  | { type: 'status'; state: 'online' | 'offline'; retained: boolean; at: number; agentVersion?: string }
  | { type: 'heartbeat'; heartbeat: HeartbeatMessage; at: number }
  /** The broker saw the site's session end (aedes only; Mosquitto relies on the last will). */
  | { type: 'session-down'; at: number }
  | { type: 'drain'; draining: boolean; at: number }
  /** Time passes: detects stale heartbeats. */
  | { type: 'tick'; at: number };

/** Per-site state; plain data. */
export interface SiteHealthState {
  siteId: string;
  health: SiteHealth;
  /** Health ignoring the drain flag: what the heartbeats and the session say. */
  condition: 'online' | 'degraded' | 'offline';
  /** When `health` last changed. */
  since: number;
  /** Ops asked to drain: shown as 'draining' while the site is alive. */
  draining: boolean;
  /** Consecutive good heartbeats since the last bad one or since the site came back. */
  goodStreak: number;
  /** Consecutive heartbeats of any kind since the site was last offline. */
  aliveStreak: number;
  lastHeartbeatAt: number | null;
  /** Last reported load, 0..1 of capacity. */
  load: number;
  checks: ServiceCheck[];
  appliedGeneration: number | null;
  nodeReady: boolean | null;
  /**
   * The site filters packets in the kernel, as its latest heartbeat says (null: no heartbeat yet). Set by
   * the first heartbeat, before any hysteresis: a site that cannot enforce shows so within one heartbeat.
   */
  kernelEnforcing: boolean | null;
  /** Why not, with the agent's error code (null when kernelEnforcing is not false). */
  notEnforcing: NotEnforcing | null;
  /** Seconds since the WireGuard handshake, from the latest heartbeat (null: not reported). */
  tunnelHandshakeAgeS: number | null;
  /** From the site's status message (null: not reported). */
  agentVersion: string | null;
  lastReason: string;
  /** A node's heartbeat: the site services it has a ready pod of (absent: not reported). */
  serves?: string[];
  /** A multi-node site: each node's own state, by name (absent for a one-device site). */
  nodes?: NodeHealth[];
}

/** One node of a multi-node site, as its own state machine sees it. */
export interface NodeHealth {
  name: string;
  health: SiteHealth;
  since: number;
  lastHeartbeatAt: number | null;
  load: number;
  appliedGeneration: number | null;
  tunnelHandshakeAgeS: number | null;
  agentVersion: string | null;
  kernelEnforcing: boolean | null;
  serves: string[] | null;
  lastReason: string;
}

export interface HealthStep {
  state: SiteHealthState;
  /** Present when health changed. */
  event?: SiteHealthEvent;
}

/**
 * The stateful model: applies inputs per site and emits 'event' (SiteHealthEvent) at once, and
 * 'update' (SiteHealthState) on any change of load/checks/health (the SitesView listens to both).
 */
export interface HealthModel extends EventEmitter {
  readonly config: HealthConfig;
  apply(siteId: string, input: HealthInput): HealthStep;
  get(siteId: string): SiteHealthState | undefined;
  list(): SiteHealthState[];
  /** Detects stale sites; the monitor calls it on a timer, tests call it with their clock. */
  tick(now: number): SiteHealthEvent[];
  /** Forgets a site (revoked or deleted). */
  remove(siteId: string): void;
  /**
   * A site's last known health from elsewhere (past one hub: the store, as the replica that saw it
   * change wrote it), for a site this model has not heard of yet. An online, degraded or draining site
   * gets a full staleness window from `at` to confirm it with heartbeats, like a retained `online`.
   */
  seed(s: { siteId: string; health: SiteHealth; since: number; reason: string }, at: number): void;
  /**
   * A node of a multi-node site: its own state machine steps, and the site's state is the aggregate of
   * its nodes' (nodes.ts). Returns the site's step.
   */
  applyNode(siteId: string, node: string, input: HealthInput): HealthStep;
  /** The enrolled nodes of a site (a node never heard is offline); a node left out is forgotten. */
  setNodes(siteId: string, names: readonly string[], at: number): void;
  /** A node's own state; undefined when the site has no such node. */
  node(siteId: string, node: string): SiteHealthState | undefined;
}

/** A site as the hub store (or a standalone router's file) knows it: everything but live health and load. */
export interface SiteRecord extends Omit<RoutableSite, 'load' | 'health'> {
  /** Ops asked to drain the site (stored, survives a hub restart). */
  draining: boolean;
}

export interface SitesViewOptions {
  /** Non-revoked sites: from the hub store, or the standalone router's sites file. */
  listSites(): SiteRecord[];
  health: HealthModel;
  /** Clock for drain inputs; default Date.now. */
  now?: () => number;
}

/** The router's SitesView fed by site records: a changed or removed site, or a full re-read of the records. */
export interface RecordSitesView extends SitesView {
  refresh(): void;
  /** A site created or changed in the store (not revoked). */
  upsert(rec: SiteRecord): void;
  /** A site revoked or deleted. */
  remove(id: string): void;
  close(): void;
}
