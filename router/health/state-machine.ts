// One site's health as a pure function of (state, input, config): no clock, no I/O, so the rules
// below are tested with plain data. Down fast (one bad heartbeat, the last will, a dropped session or
// staleness take a site down at once), up slowly (config.upAfter good heartbeats in a row). Whether
// the site enforces in the kernel is a flag beside its health, taken from every heartbeat at once.
import type { HeartbeatMessage, NotEnforcing } from '../../protocol/index.ts';
import type { HealthConfig, HealthInput, HealthStep, SiteHealth, SiteHealthState } from './types.ts';

export function initialHealthState(siteId: string, at: number): SiteHealthState {
  return {
    siteId,
    health: 'offline',
    condition: 'offline',
    since: at,
    draining: false,
    goodStreak: 0,
    aliveStreak: 0,
    lastHeartbeatAt: null,
    load: 0,
    checks: [],
    appliedGeneration: null,
    nodeReady: null,
    kernelEnforcing: null,
    notEnforcing: null,
    tunnelHandshakeAgeS: null,
    agentVersion: null,
    lastReason: 'not seen yet',
  };
}

/** Why a heartbeat is bad, or null when it is good. */
export function heartbeatProblem(hb: HeartbeatMessage): string | null {
  const failing = hb.checks.filter((c) => !c.ok).map((c) => (c.detail ? `${c.name} (${c.detail})` : c.name));
  if (!hb.nodeReady) failing.unshift('node not ready');
  return failing.length ? `failing: ${failing.join(', ')}` : null;
}

/**
 * Whether a heartbeat says the site filters packets in the kernel, and why not. Agents before the
 * `kernelEnforcing` field say it with their `datapath` check (ok: the kernel datapath); without either, unknown.
 */
export function kernelEnforcingOf(hb: HeartbeatMessage): { kernelEnforcing: boolean | null; notEnforcing: NotEnforcing | null } {
  if (hb.kernelEnforcing !== undefined)
    return {
      kernelEnforcing: hb.kernelEnforcing,
      notEnforcing: hb.kernelEnforcing ? null : (hb.notEnforcing ?? { code: 'DATAPATH_UNKNOWN', reason: 'the agent gave no reason' }),
    };
  const check = hb.checks.find((c) => c.name === 'datapath');
  if (!check) return { kernelEnforcing: null, notEnforcing: null };
  return { kernelEnforcing: check.ok, notEnforcing: check.ok ? null : { code: 'DATAPATH_NOT_KERNEL', reason: check.detail ?? 'datapath check failing' } };
}

function effective(condition: SiteHealthState['condition'], draining: boolean): SiteHealth {
  if (condition === 'offline') return 'offline';
  return draining ? 'draining' : condition;
}

/** Applies one input; returns the new state and, when health changed, the event to emit. */
export function stepHealth(prev: SiteHealthState, input: HealthInput, config: HealthConfig): HealthStep {
  const s: SiteHealthState = { ...prev };
  let reason = prev.lastReason;
  const goOffline = (why: string) => {
    s.condition = 'offline';
    s.goodStreak = 0;
    s.aliveStreak = 0;
    reason = why;
  };

  switch (input.type) {
    case 'status':
      if (input.agentVersion !== undefined) s.agentVersion = input.agentVersion;
      if (input.state === 'offline') {
        goOffline(input.retained ? 'retained status: offline' : 'last will: offline');
      } else if (input.retained && s.condition === 'offline' && s.lastHeartbeatAt === null) {
        // Warm start: the broker still holds `online` from before the hub restarted. Trust it now
        // and give the site a full staleness window to confirm it with a heartbeat.
        s.condition = 'online';
        s.lastHeartbeatAt = input.at;
        reason = 'warm start: retained status online';
      }
      break;
    case 'session-down':
      goOffline('session dropped');
      break;
    case 'drain':
      s.draining = input.draining;
      reason = input.draining ? 'drain requested' : 'drain lifted';
      break;
    case 'tick': {
      const limit = config.missedHeartbeats * config.heartbeatIntervalMs;
      if (s.condition !== 'offline' && s.lastHeartbeatAt !== null && input.at - s.lastHeartbeatAt > limit) {
        goOffline(`stale: no heartbeat for ${Math.round((input.at - s.lastHeartbeatAt) / 1000)} s`);
      }
      break;
    }
    case 'heartbeat': {
      const hb = input.heartbeat;
      s.lastHeartbeatAt = input.at;
      s.load = Math.min(Math.max(hb.load, 0), 1e6);
      s.checks = hb.checks;
      s.appliedGeneration = hb.appliedGeneration;
      s.nodeReady = hb.nodeReady;
      if (hb.tunnel) s.tunnelHandshakeAgeS = hb.tunnel.handshakeAgeS;
      if (hb.serves) s.serves = hb.serves;
      Object.assign(s, kernelEnforcingOf(hb));
      s.aliveStreak += 1;
      const problem = heartbeatProblem(hb);
      if (problem) {
        s.goodStreak = 0;
        // Down fast from online; up slowly from offline (into degraded, the site is alive but failing).
        if (s.condition === 'online' || (s.condition === 'offline' && s.aliveStreak >= config.upAfter)) s.condition = 'degraded';
        reason = problem;
      } else {
        s.goodStreak += 1;
        if (s.condition !== 'online' && s.goodStreak >= config.upAfter) {
          s.condition = 'online';
          reason = `${s.goodStreak} good heartbeats`;
        }
      }
      break;
    }
  }

  const health = effective(s.condition, s.draining);
  if (s.condition !== prev.condition) s.lastReason = reason;
  if (health === prev.health) return { state: s };
  s.health = health;
  s.since = input.at;
  s.lastReason = reason;
  return { state: s, event: { siteId: s.siteId, from: prev.health, to: health, at: input.at, reason } };
}
