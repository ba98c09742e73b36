// The watcher of one update: a short-lived process of the old (known-good) binary that judges the new
// agent through its status API until the health gate passes (bless: `good` moves to the new binary) or
// the deadline passes (rollback: `current` back to the old binary, the reason recorded for the hub, the
// service restarted). It lives apart from the agent it judges, so a new binary that hangs or crashes
// at start cannot keep itself in place.
import { judge, gateStep, type Judgement } from './gate.ts';
import type { Slots } from './slots.ts';
import type { AgentStatus } from '../status-types.ts';

export interface WatchDeps {
  slots: Slots;
  /** The new agent's status, or null when it does not answer. */
  status: () => Promise<AgentStatus | null>;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Restarts the agent service (after a rollback, so the old binary runs). */
  restart: () => Promise<void>;
  pollMs?: number;
  log?: (m: string) => void;
}

export type WatchOutcome = { kind: 'blessed'; afterMs: number } | { kind: 'rolled-back'; reason: string; afterMs: number } | { kind: 'gone' };

export async function watchUpdate(d: WatchDeps): Promise<WatchOutcome> {
  const log = d.log ?? (() => undefined);
  const start = d.now();
  for (;;) {
    const p = d.slots.pending();
    // Someone else (a rollback by hand, another watcher) finished it.
    if (!p) return { kind: 'gone' };
    const j: Judgement = judge(p.baseline, await d.status());
    const step = gateStep(j, d.now() - start, p.deadlineMs);
    const afterMs = d.now() - start;
    if (step.kind === 'bless') {
      d.slots.point('previous', p.fromFile);
      d.slots.point('good', p.toFile);
      d.slots.setResult({ version: p.to, from: p.from, state: 'blessed', at: new Date(d.now()).toISOString(), rolloutId: p.rolloutId });
      d.slots.clearPending();
      log(`update ${p.from} -> ${p.to} blessed after ${afterMs} ms`);
      return { kind: 'blessed', afterMs };
    }
    if (step.kind === 'rollback') {
      d.slots.point('current', p.fromFile);
      d.slots.setResult({
        version: p.to,
        from: p.from,
        state: 'rolled-back',
        code: 'UPDATE_HEALTH_GATE',
        reason: step.reason,
        at: new Date(d.now()).toISOString(),
        rolloutId: p.rolloutId,
      });
      d.slots.clearPending();
      log(`update ${p.from} -> ${p.to} rolled back: ${step.reason}`);
      await d.restart();
      return { kind: 'rolled-back', reason: step.reason, afterMs };
    }
    await d.sleep(d.pollMs ?? 250);
  }
}
