// A rollout's decisions as a pure function of (state, input, config): no store, no clock, no broker,
// so every transition is tested with plain data (state-machine.test.ts). The engine (engine.ts) is
// the I/O around it: it reads what a step needs in one transaction, calls nextStep, and applies what
// comes back (one write of the progress with its audit entry, bundles published, logs).
//
// The rules: any still-enrolled site that rejected its bundle fails the rollout (the first rejection
// by ack time is the reason). Otherwise the current stage's bundles go out, and the stage passes when
// every still-enrolled site of it acked `applied` and the audit window (from that moment) has passed;
// after the last stage the rollout is complete. A site that left (revoked) no longer holds a stage.
import { matches } from './selector.ts';
import type { RolloutRecord, RolloutSite, RolloutState, SiteRecord } from '../store/types.ts';

/** The part of a rollout its steps change (the store columns of the same names). */
export interface RolloutProgress {
  state: RolloutState;
  /** Index of the stage being rolled out (stage count once complete). */
  stage: number;
  /** When every site of the stage acked `applied`: the audit window starts there. */
  stageAckedAt: number | null;
  reason: string | null;
}

/** Fixed for a rollout's life. */
export interface RolloutConfig {
  stageCount: number;
  auditWindowS: number;
}

/** What the store and this process know when a step runs. */
export interface RolloutInput {
  now: number;
  /** The first still-enrolled site (by ack time) that rejected its bundle, in any stage. */
  rejected: Pick<RolloutSite, 'siteId' | 'generation' | 'code' | 'reason'> | null;
  /** Every still-enrolled site of the current stage acked `applied` (true for a stage with none left). */
  stageApplied: boolean;
  /**
   * The still-enrolled rows of the current stage, or null when this process already sent every bundle
   * of it (then the counts decide alone, and the engine need not read thousands of rows per ack burst).
   */
  rows: readonly RolloutSite[] | null;
  /** Bundles this process published (see sentKey): retained at QoS 1, each goes out once per process. */
  sent: ReadonlySet<string>;
}

export type RolloutAction =
  /** Record (if needed) and publish these sites' bundles. */
  | { kind: 'publish'; stage: number; sites: RolloutSite[] }
  /** The rollout failed: a site rejected its bundle. */
  | { kind: 'halt'; reason: string }
  /** A stage passed; `stage` is the one now rolling out. */
  | { kind: 'stage-passed'; stage: number }
  /** The last stage passed; `stage` is the stage count. */
  | { kind: 'complete'; stage: number };

export interface RolloutStep {
  state: RolloutProgress;
  actions: RolloutAction[];
  /** Step again at once: a stage passed and the next one has bundles to send. */
  again: boolean;
}

export const sentKey = (siteId: string, generation: number): string => `${siteId}:${generation}`;

/** Rows whose bundle must (still) go out: not acked, and not already published by this process at their generation. */
export function unsent(rows: readonly RolloutSite[], sent: ReadonlySet<string>): RolloutSite[] {
  return rows.filter((s) => s.result === null && !(s.generation !== null && sent.has(sentKey(s.siteId, s.generation))));
}

export function rejectionReason(r: NonNullable<RolloutInput['rejected']>): string {
  return `site ${r.siteId} rejected generation ${r.generation}: ${r.code ?? ''} ${r.reason ?? ''}`.trim();
}

/** One step of a rollout. */
export function nextStep(prev: RolloutProgress, input: RolloutInput, config: RolloutConfig): RolloutStep {
  const wait = (state: RolloutProgress = prev, actions: RolloutAction[] = []): RolloutStep => ({ state, actions, again: false });
  if (prev.state !== 'running') return wait();

  if (input.rejected) {
    const reason = rejectionReason(input.rejected);
    return wait({ ...prev, state: 'failed', reason }, [{ kind: 'halt', reason }]);
  }

  const due = input.rows ? unsent(input.rows, input.sent) : [];
  // An unsent row is unacked, so such a stage cannot pass yet: publishing and passing never meet.
  if (due.length) return wait(prev, [{ kind: 'publish', stage: prev.stage, sites: due }]);
  if (!input.stageApplied) return wait();

  let ackedAt = prev.stageAckedAt;
  if (ackedAt === null) {
    ackedAt = input.now;
    if (config.auditWindowS > 0) return wait({ ...prev, stageAckedAt: ackedAt });
  } else if (input.now < ackedAt + config.auditWindowS * 1000) {
    return wait();
  }

  const stage = prev.stage + 1;
  const done = stage >= config.stageCount;
  return {
    state: { ...prev, stage, stageAckedAt: null, state: done ? 'completed' : 'running' },
    actions: [done ? { kind: 'complete', stage } : { kind: 'stage-passed', stage }],
    again: !done,
  };
}

/**
 * The rollout a newly enrolled site joins: the newest running or completed one whose selector covers
 * it, in its last stage (the one that takes every targeted site: the policy the fleet is on). None, or
 * that one rolls out version 0 (no policies): the site stays default-allow.
 */
export function joinTarget(newestFirst: readonly RolloutRecord[], site: Pick<SiteRecord, 'labels'>): { rollout: RolloutRecord; stage: number } | null {
  const r = newestFirst.find((x) => (x.state === 'running' || x.state === 'completed') && matches(x.selector, site.labels));
  if (!r || r.policyVersion === 0) return null;
  return { rollout: r, stage: r.stages.length - 1 };
}
