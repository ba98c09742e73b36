// What the service does with an update before it starts the agent (ExecStartPre, run from the image's
// own binary, never from the one being tried): a pure decision over what is on disk, so a crash at
// any point of an update (kill -9 between writing pending.json and the swap, or during the first start
// of the new binary) ends in the old binary or in one more watched try, never in a binary nobody judges.
import type { Pending } from './slots.ts';

/** Starts of a new binary before the guard gives up on it (each start is one watched try). */
export const MAX_ATTEMPTS = 3;

export interface GuardInput {
  pending: Pending | null;
  /** Where `current` points now. */
  current: string | null;
  /** A watcher of this update is alive (it judges, blesses or rolls back on its own deadline). */
  watcherAlive: boolean;
}

export type GuardDecision =
  /** Nothing in flight: start what `current` points at. */
  | { kind: 'start' }
  /** The agent died before its swap: the update never happened; forget it (the hub's order is retried). */
  | { kind: 'abandon' }
  /** The new binary is in place: count this start, and start a watcher when none is alive. */
  | { kind: 'watch'; attempts: number; spawnWatcher: boolean }
  /** Out of tries: back to the old binary, with the reason. */
  | { kind: 'rollback'; reason: string };

export function guardStep(i: GuardInput): GuardDecision {
  const p = i.pending;
  if (!p) return { kind: 'start' };
  if (i.current !== p.toFile) return { kind: 'abandon' };
  if (p.attempts >= MAX_ATTEMPTS) return { kind: 'rollback', reason: `the new agent ${p.to} was started ${p.attempts} times without passing the health gate` };
  return { kind: 'watch', attempts: p.attempts + 1, spawnWatcher: !i.watcherAlive };
}
