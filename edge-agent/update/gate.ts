// The health gate of an update, as pure functions: is the new version at least as healthy as the old
// one was, and what to do about it now. The baseline is taken from the old version's own status just
// before the swap, so a site whose tunnel was down (or that never enrolled) is not failed for a tunnel
// the new version could not have either; what worked before must work after:
//   agent running and answering (a status with the new version),
//   tc programs attached (at least as many pods as before),
//   the last-known-good generation enforcing in the kernel,
//   the tunnel handshaking (when it was), the broker connected (when it was).
// No clock, no I/O: the watcher (watch.ts) feeds statuses and times in.
import type { AgentStatus } from '../status-types.ts';

/** What the old version had, read from its status before the swap. */
export interface GateBaseline {
  /** The version being installed. */
  version: string;
  /** The generation the old version enforced: the new one must enforce it (or newer) too. */
  generation: number;
  podsAttached: number;
  tunnel: boolean;
  broker: boolean;
}

export type GateCheck = 'running' | 'attached' | 'enforcing' | 'tunnel' | 'broker';

export type Judgement = { ok: true } | { ok: false; check: GateCheck; reason: string };

/** Tunnel handshakes older than this are not "handshaking" (WireGuard re-handshakes every 2 minutes). */
const HANDSHAKE_FRESH_S = 180;

export function baselineOf(s: AgentStatus, version: string): GateBaseline {
  return {
    version,
    generation: s.datapath.kernelEnforcing ? s.datapath.appliedGeneration : 0,
    podsAttached: s.pods.attached,
    tunnel: handshaking(s),
    broker: s.hub.link?.state === 'connected',
  };
}

function handshaking(s: AgentStatus): boolean {
  const age = s.tunnel?.handshakeAgeS;
  return Boolean(s.tunnel?.up) && age !== null && age !== undefined && age <= HANDSHAKE_FRESH_S;
}

/** Judges one status of the new version against the baseline (null: it did not answer). */
export function judge(b: GateBaseline, s: AgentStatus | null): Judgement {
  if (!s) return { ok: false, check: 'running', reason: 'the new agent does not answer on its status port' };
  if (s.version !== b.version) return { ok: false, check: 'running', reason: `the agent answering is ${s.version}, not ${b.version}` };
  if (s.pods.attached < b.podsAttached) return { ok: false, check: 'attached', reason: `${s.pods.attached} pods attached, ${b.podsAttached} before` };
  if (!s.enforcing || !s.datapath.kernelEnforcing) {
    const why = s.datapath.notEnforcing ? `: ${s.datapath.notEnforcing.reason} (${s.datapath.notEnforcing.code})` : '';
    return { ok: false, check: 'enforcing', reason: `not enforcing in the kernel${why}` };
  }
  if (s.datapath.appliedGeneration < b.generation) {
    return { ok: false, check: 'enforcing', reason: `enforcing generation ${s.datapath.appliedGeneration}, the last-known-good is ${b.generation}` };
  }
  if (b.tunnel && !handshaking(s)) return { ok: false, check: 'tunnel', reason: 'no recent tunnel handshake' };
  if (b.broker && s.hub.link?.state !== 'connected') return { ok: false, check: 'broker', reason: `broker link ${s.hub.link?.state ?? 'absent'}` };
  return { ok: true };
}

export type GateDecision = { kind: 'bless' } | { kind: 'wait' } | { kind: 'rollback'; reason: string };

/**
 * Blesses at the first passing judgement; past the deadline, rolls back with the last failing reason
 * (the one a technician and the hub are shown).
 */
export function gateStep(j: Judgement, elapsedMs: number, deadlineMs: number): GateDecision {
  if (j.ok) return { kind: 'bless' };
  if (elapsedMs < deadlineMs) return { kind: 'wait' };
  return { kind: 'rollback', reason: `health gate failed after ${Math.round(deadlineMs / 1000)} s: ${j.check}: ${j.reason}` };
}
