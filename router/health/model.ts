// The stateful health model: one state-machine state per site, events emitted synchronously the
// moment an input changes a site's health, so in-process consumers (router, SSE) see it at once.
import { EventEmitter } from 'node:events';
import { initialHealthState, stepHealth } from './state-machine.ts';
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

  constructor(readonly config: HealthConfig) {
    super();
    // A slow SSE client or many router instances must not trip Node's leak warning.
    this.setMaxListeners(0);
  }

  apply(siteId: string, input: HealthInput): HealthStep {
    const prev = this.sites.get(siteId) ?? initialHealthState(siteId, input.at);
    const step = stepHealth(prev, input, this.config);
    this.sites.set(siteId, step.state);
    if (step.event) this.emit('event', step.event);
    if (step.event || step.state.load !== prev.load || input.type === 'heartbeat') this.emit('update', step.state);
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
