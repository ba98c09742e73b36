// The stateful health model: one state-machine state per site, events emitted synchronously the
// moment an input changes a site's health, so in-process consumers (router, SSE) see it at once.
import { EventEmitter } from 'node:events';
import { initialHealthState, stepHealth } from './state-machine.ts';
import { aggregateNodes } from './nodes.ts';
import {
  DEFAULT_HEALTH_CONFIG,
  type HealthConfig,
  type HealthInput,
  type HealthModel,
  type HealthStep,
  type SiteHealth,
  type SiteHealthEvent,
  type SiteHealthState,
} from './types.ts';

class Model extends EventEmitter implements HealthModel {
  private readonly sites = new Map<string, SiteHealthState>();
  /** Multi-node sites: each node's own state, by site then node name. */
  private readonly nodeStates = new Map<string, Map<string, SiteHealthState>>();

  constructor(readonly config: HealthConfig) {
    super();
    // A slow SSE client or many router instances must not trip Node's leak warning.
    this.setMaxListeners(0);
  }

  apply(siteId: string, input: HealthInput): HealthStep {
    const prev = this.sites.get(siteId) ?? initialHealthState(siteId, input.at);
    // A multi-node site's own inputs are drains (and ticks, which step its nodes instead).
    if (this.nodeStates.has(siteId) && input.type === 'tick') return this.stepNodes(siteId, input.at, (n) => stepHealth(n, input, this.config).state);
    const step = stepHealth(prev, input, this.config);
    return this.commit(prev, step, input.type === 'heartbeat');
  }

  applyNode(siteId: string, node: string, input: HealthInput): HealthStep {
    let nodes = this.nodeStates.get(siteId);
    if (!nodes) this.nodeStates.set(siteId, (nodes = new Map()));
    const prevNode = nodes.get(node) ?? initialHealthState(node, input.at);
    nodes.set(node, stepHealth(prevNode, input, this.config).state);
    return this.aggregate(siteId, input.at, input.type === 'heartbeat');
  }

  setNodes(siteId: string, names: readonly string[], at: number): void {
    let nodes = this.nodeStates.get(siteId);
    if (!nodes) {
      if (names.length === 0) return;
      this.nodeStates.set(siteId, (nodes = new Map()));
    }
    const keep = new Set(names);
    for (const n of [...nodes.keys()]) if (!keep.has(n)) nodes.delete(n);
    for (const n of names) if (!nodes.has(n)) nodes.set(n, initialHealthState(n, at));
    this.aggregate(siteId, at, false);
  }

  node(siteId: string, node: string): SiteHealthState | undefined {
    return this.nodeStates.get(siteId)?.get(node);
  }

  private stepNodes(siteId: string, at: number, f: (s: SiteHealthState) => SiteHealthState): HealthStep {
    const nodes = this.nodeStates.get(siteId)!;
    for (const [name, st] of nodes) nodes.set(name, f(st));
    return this.aggregate(siteId, at, false);
  }

  private aggregate(siteId: string, at: number, heartbeat: boolean): HealthStep {
    const prev = this.sites.get(siteId) ?? initialHealthState(siteId, at);
    return this.commit(prev, aggregateNodes(prev, this.nodeStates.get(siteId)!, at), heartbeat);
  }

  private commit(prev: SiteHealthState, step: HealthStep, heartbeat: boolean): HealthStep {
    this.sites.set(prev.siteId, step.state);
    if (step.event) this.emit('event', step.event);
    if (step.event || step.state.load !== prev.load || heartbeat || step.state.nodes !== prev.nodes) this.emit('update', step.state);
    return step;
  }

  get(siteId: string): SiteHealthState | undefined {
    return this.sites.get(siteId);
  }

  list(): SiteHealthState[] {
    return [...this.sites.values()];
  }

  tick(now: number): SiteHealthEvent[] {
    const events: SiteHealthEvent[] = [];
    for (const id of this.sites.keys()) {
      const { event } = this.apply(id, { type: 'tick', at: now });
      if (event) events.push(event);
    }
    return events;
  }

  remove(siteId: string): void {
    this.sites.delete(siteId);
    this.nodeStates.delete(siteId);
  }

  seed(x: { siteId: string; health: SiteHealth; since: number; reason: string }, at: number): void {
    if (this.sites.has(x.siteId)) return;
    const s = initialHealthState(x.siteId, x.since);
    s.health = x.health;
    s.condition = x.health === 'draining' ? 'online' : x.health;
    s.draining = x.health === 'draining';
    s.lastReason = x.reason;
    if (x.health !== 'offline') {
      s.lastHeartbeatAt = at;
      // Already up: one good heartbeat keeps it up, as after a warm start.
      s.goodStreak = this.config.upAfter;
      s.aliveStreak = this.config.upAfter;
    }
    this.sites.set(x.siteId, s);
    this.emit('update', s);
  }
}

export function createHealthModel(config: Partial<HealthConfig> = {}): HealthModel {
  return new Model({ ...DEFAULT_HEALTH_CONFIG, ...config });
}
