// A multi-node site's health from its nodes' (issue 19): pure, so the rules are table tests
// (nodes.test.ts). Every node runs its own state machine (state-machine.ts); the site is
//   online   when every enrolled node is online,
//   degraded when some node is up (online or degraded) and some is not all right,
//   offline  when no node is up.
// Its load is what the router weighs it by: the healthy nodes' share of the capacity. A node that is
// down counts as full (its share is not on offer), so a site with one of three nodes down and idle
// nodes reports a third of its capacity in use.
import type { HealthStep, NodeHealth, SiteHealthState } from './types.ts';

export function nodeHealthOf(name: string, s: SiteHealthState): NodeHealth {
  return {
    name,
    health: s.health,
    since: s.since,
    lastHeartbeatAt: s.lastHeartbeatAt,
    load: s.load,
    appliedGeneration: s.appliedGeneration,
    tunnelHandshakeAgeS: s.tunnelHandshakeAgeS,
    agentVersion: s.agentVersion,
    kernelEnforcing: s.kernelEnforcing,
    serves: s.serves ?? null,
    lastReason: s.lastReason,
  };
}

/** The site's state from its nodes' states (by name, every enrolled node present), given the site's previous state. */
export function aggregateNodes(prev: SiteHealthState, nodes: ReadonlyMap<string, SiteHealthState>, at: number): HealthStep {
  const all = [...nodes.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const up = all.filter(([, n]) => n.condition !== 'offline');
  const down = all.filter(([, n]) => n.condition === 'offline').map(([name]) => name);
  const notRight = all.filter(([, n]) => n.condition !== 'online').map(([name]) => name);
  const condition: SiteHealthState['condition'] = up.length === 0 ? 'offline' : notRight.length === 0 ? 'online' : 'degraded';
  const reason =
    all.length === 0
      ? 'no node enrolled'
      : condition === 'online'
        ? `all ${all.length} node(s) online`
        : condition === 'offline'
          ? `no node up (${all.length} enrolled)`
          : `${up.length} of ${all.length} node(s) up${down.length ? `; down: ${down.join(', ')}` : ''}${notRight.length > down.length ? `; degraded: ${notRight.filter((n) => !down.includes(n)).join(', ')}` : ''}`;
  const upStates = up.map(([, n]) => n);
  const applied = upStates.map((n) => n.appliedGeneration).filter((g): g is number => g !== null);
  const handshakes = upStates.map((n) => n.tunnelHandshakeAgeS).filter((h): h is number => h !== null);
  const enforcing = upStates.map((n) => n.kernelEnforcing).filter((e): e is boolean => e !== null);
  const s: SiteHealthState = {
    ...prev,
    condition,
    load: all.length ? (upStates.reduce((sum, n) => sum + Math.min(n.load, 1), 0) + down.length) / all.length : 0,
    checks: upStates.flatMap((n) => n.checks.map((c) => ({ ...c, name: `${n.siteId}/${c.name}` }))),
    appliedGeneration: applied.length ? Math.min(...applied) : null,
    nodeReady: upStates.length ? upStates.some((n) => n.nodeReady === true) : null,
    kernelEnforcing: enforcing.length ? enforcing.every(Boolean) : null,
    notEnforcing: upStates.find((n) => n.notEnforcing)?.notEnforcing ?? null,
    tunnelHandshakeAgeS: handshakes.length ? Math.min(...handshakes) : null,
    lastHeartbeatAt: Math.max(0, ...all.map(([, n]) => n.lastHeartbeatAt ?? 0)) || null,
    agentVersion: upStates.find((n) => n.agentVersion)?.agentVersion ?? prev.agentVersion,
    nodes: all.map(([name, n]) => nodeHealthOf(name, n)),
  };
  const health = condition === 'offline' ? 'offline' : s.draining ? 'draining' : condition;
  if (s.condition !== prev.condition || reason !== prev.lastReason) s.lastReason = reason;
  if (health === prev.health) return { state: s };
  s.health = health;
  s.since = at;
  s.lastReason = reason;
  return { state: s, event: { siteId: s.siteId, from: prev.health, to: health, at, reason } };
}
