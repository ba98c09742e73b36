// The rollout rules with plain data and a hand-driven clock: every transition the engine takes, and a
// whole rollout driven step by step against a simulated fleet (acks late, duplicated, out of order).
import { describe, expect, it } from 'vitest';
import type { RolloutRecord, RolloutSite, RolloutState } from '../store/types.ts';
import {
  joinTarget,
  nextStep,
  type RolloutAction,
  type RolloutConfig,
  type RolloutInput,
  type RolloutProgress,
  type RolloutStep,
  sentKey,
  unsent,
} from './state-machine.ts';

const progress = (over: Partial<RolloutProgress> = {}): RolloutProgress => ({ state: 'running', stage: 0, stageAckedAt: null, reason: null, ...over });
const row = (siteId: string, over: Partial<RolloutSite> = {}): RolloutSite => ({
  rolloutId: 1,
  siteId,
  stage: 0,
  policyVersion: 3,
  generation: null,
  publishedAt: null,
  result: null,
  code: null,
  reason: null,
  ackedAt: null,
  ...over,
});
const out = (siteId: string, generation: number) => row(siteId, { generation, publishedAt: 1 });
const applied = (siteId: string, generation = 1) => row(siteId, { generation, publishedAt: 1, result: 'applied', ackedAt: 2 });
/** A stage as the store gives it: the rows (or null: all sent by this process) and the counts over them. */
const stage = (rows: RolloutSite[], over: Partial<RolloutInput> = {}): RolloutInput => ({
  now: 10_000,
  rejected: null,
  stageApplied: rows.every((r) => r.result === 'applied'),
  rows,
  sent: new Set(),
  ...over,
});
/** Every bundle of the stage out from this process: counts only. */
const counted = (total: number, appliedCount: number, over: Partial<RolloutInput> = {}): RolloutInput => ({
  now: 10_000,
  rejected: null,
  stageApplied: appliedCount >= total,
  rows: null,
  sent: new Set(),
  ...over,
});
const three: RolloutConfig = { stageCount: 3, auditWindowS: 0 };
const windowed: RolloutConfig = { stageCount: 3, auditWindowS: 600 };
const waits = (state: RolloutProgress, actions: RolloutAction[] = []): RolloutStep => ({ state, actions, again: false });
const publish = (at: number, ...rows: RolloutSite[]): RolloutAction => ({ kind: 'publish', stage: at, sites: rows });

describe('rollout state machine', () => {
  it.each<[string, RolloutProgress, RolloutInput, RolloutConfig, RolloutStep]>([
    // Sending a stage's bundles.
    ['a new canary stage publishes its site', progress(), stage([row('a')]), three, waits(progress(), [publish(0, row('a'))])],
    [
      'publishes only what this process has not sent at that generation',
      progress({ stage: 1 }),
      stage([out('a', 1), row('b'), out('c', 4)], { sent: new Set([sentKey('a', 1), sentKey('c', 3)]) }),
      three,
      waits(progress({ stage: 1 }), [publish(1, row('b'), out('c', 4))]),
    ],
    [
      'after a hub restart (nothing sent by this process) republishes every unacked bundle, never an acked one',
      progress(),
      stage([out('a', 2), applied('b')]),
      three,
      waits(progress(), [publish(0, out('a', 2))]),
    ],
    ['every bundle out, an ack missing: waits', progress(), stage([applied('a'), out('b', 1)], { sent: new Set([sentKey('b', 1)]) }), three, waits(progress())],
    ['counts only (stage all sent), an ack missing: waits', progress({ stage: 1 }), counted(1000, 999), three, waits(progress({ stage: 1 }))],
    // Passing stages.
    [
      'the canary acked: the next stage starts at once',
      progress(),
      stage([applied('a')]),
      three,
      { state: progress({ stage: 1 }), actions: [{ kind: 'stage-passed', stage: 1 }], again: true },
    ],
    [
      'a percentage stage acked (counts only)',
      progress({ stage: 1 }),
      counted(40, 40),
      three,
      { state: progress({ stage: 2 }), actions: [{ kind: 'stage-passed', stage: 2 }], again: true },
    ],
    [
      'the last stage acked: complete',
      progress({ stage: 2 }),
      counted(5, 5),
      three,
      { state: progress({ state: 'completed', stage: 3 }), actions: [{ kind: 'complete', stage: 3 }], again: false },
    ],
    [
      'a stage whose every site left (revoked) passes',
      progress({ stage: 1 }),
      stage([]),
      three,
      { state: progress({ stage: 2 }), actions: [{ kind: 'stage-passed', stage: 2 }], again: true },
    ],
    // The audit window.
    ['the window starts when the last ack is seen', progress(), stage([applied('a')]), windowed, waits(progress({ stageAckedAt: 10_000 }))],
    [
      'inside the window: holds',
      progress({ stageAckedAt: 10_000 }),
      counted(1, 1, { now: 10_000 + 599_999 }),
      windowed,
      waits(progress({ stageAckedAt: 10_000 })),
    ],
    [
      'the window over: passes',
      progress({ stageAckedAt: 10_000 }),
      counted(1, 1, { now: 10_000 + 600_000 }),
      windowed,
      { state: progress({ stage: 1 }), actions: [{ kind: 'stage-passed', stage: 1 }], again: true },
    ],
    [
      'the last stage has its window too',
      progress({ stage: 2, stageAckedAt: 0 }),
      counted(3, 3, { now: 600_000 }),
      windowed,
      { state: progress({ state: 'completed', stage: 3 }), actions: [{ kind: 'complete', stage: 3 }], again: false },
    ],
    // Failing.
    [
      'a rejection fails the rollout with the site, generation, code and reason',
      progress({ stage: 1 }),
      counted(4, 1, { rejected: row('b', { generation: 7, result: 'rejected', code: 'POLICY_CAPACITY', reason: 'too many rules' }) }),
      three,
      waits(progress({ stage: 1, state: 'failed', reason: 'site b rejected generation 7: POLICY_CAPACITY too many rules' }), [
        { kind: 'halt', reason: 'site b rejected generation 7: POLICY_CAPACITY too many rules' },
      ]),
    ],
    [
      'a rejection without code or reason',
      progress(),
      counted(1, 0, { rejected: row('a', { generation: 2, result: 'rejected' }) }),
      three,
      waits(progress({ state: 'failed', reason: 'site a rejected generation 2:' }), [{ kind: 'halt', reason: 'site a rejected generation 2:' }]),
    ],
    [
      'a rejection (in any stage) wins over publishing and passing',
      progress({ stage: 2, stageAckedAt: 0 }),
      stage([applied('c'), row('d')], { rejected: row('a', { generation: 1, result: 'rejected' }), now: 10_000_000 }),
      three,
      waits(progress({ stage: 2, stageAckedAt: 0, state: 'failed', reason: 'site a rejected generation 1:' }), [
        { kind: 'halt', reason: 'site a rejected generation 1:' },
      ]),
    ],
    // Sites enrolled mid-rollout join the last stage.
    [
      'a site joined the running last stage: its bundle goes out and the stage waits for it',
      progress({ stage: 2 }),
      stage([applied('a'), applied('b'), row('late')], { sent: new Set([sentKey('a', 1), sentKey('b', 1)]) }),
      three,
      waits(progress({ stage: 2 }), [publish(2, row('late'))]),
    ],
    [
      'a site joined during the window: the window keeps its start, the stage waits for the newcomer',
      progress({ stage: 2, stageAckedAt: 10_000 }),
      stage([applied('a'), row('late')], { now: 10_000_000 }),
      windowed,
      waits(progress({ stage: 2, stageAckedAt: 10_000 }), [publish(2, row('late'))]),
    ],
    [
      'the newcomer acked after the window: complete',
      progress({ stage: 2, stageAckedAt: 10_000 }),
      stage([applied('a'), applied('late')], { now: 10_000_000 }),
      windowed,
      { state: progress({ state: 'completed', stage: 3 }), actions: [{ kind: 'complete', stage: 3 }], again: false },
    ],
  ])('%s', (_name, prev, input, config, want) => expect(nextStep(prev, input, config)).toEqual(want));

  it.each<RolloutState>(['completed', 'failed', 'superseded', 'rolled-back'])('a %s rollout (rollback, supersede, end) does nothing more', (state) => {
    const prev = progress({ state, stage: 1, reason: 'x' });
    const input = stage([row('a')], { rejected: row('b', { generation: 1, result: 'rejected' }) });
    expect(nextStep(prev, input, three)).toEqual(waits(prev));
  });

  it('unsent() skips acked rows (applied or rejected) and bundles sent at the same generation', () => {
    const rows = [row('a'), out('b', 1), out('c', 2), applied('d'), row('e', { generation: 1, result: 'rejected' })];
    expect(unsent(rows, new Set([sentKey('b', 1), sentKey('c', 1)])).map((r) => r.siteId)).toEqual(['a', 'c']);
  });
});

/**
 * A fleet the machine is stepped against, as the engine does: publish sets a row's generation, acks
 * land on the row awaiting that generation (the store's rule: the first result counts, an ack for
 * another generation counts for nothing), and `tick` steps until the machine waits.
 */
class Fleet {
  progress = progress();
  readonly rows: RolloutSite[];
  readonly sent = new Set<string>();
  readonly trace: string[] = [];
  private generation = 0;

  constructor(
    assignment: Record<string, number>,
    readonly config: RolloutConfig,
  ) {
    this.rows = Object.entries(assignment).map(([siteId, at]) => row(siteId, { stage: at }));
  }

  ack(siteId: string, generation: number, result: 'applied' | 'rejected', at: number): void {
    const r = this.rows.find((x) => x.siteId === siteId && x.generation === generation && x.result === null);
    if (r) Object.assign(r, { result, ackedAt: at, code: result === 'rejected' ? 'POLICY_CAPACITY' : null });
  }

  generationOf(siteId: string): number {
    return this.rows.find((x) => x.siteId === siteId)!.generation!;
  }

  tick(now: number): void {
    for (;;) {
      const live = this.rows.filter((r) => r.stage === this.progress.stage);
      const rejected = this.rows.filter((r) => r.result === 'rejected').sort((a, b) => a.ackedAt! - b.ackedAt!)[0] ?? null;
      const input = {
        ...stage(
          live.map((r) => ({ ...r })),
          { now, sent: this.sent },
        ),
        rejected,
      };
      const step = nextStep(this.progress, input, this.config);
      this.progress = step.state;
      for (const a of step.actions) {
        if (a.kind === 'publish') {
          for (const s of a.sites) {
            const r = this.rows.find((x) => x.siteId === s.siteId)!;
            r.generation = ++this.generation;
            this.sent.add(sentKey(r.siteId, r.generation));
          }
          this.trace.push(`publish ${a.sites.map((s) => s.siteId).join(',')}`);
        } else this.trace.push(a.kind === 'halt' ? `halt: ${a.reason}` : `${a.kind} ${a.stage}`);
      }
      if (!step.again) return;
    }
  }
}

describe('a rollout stepped against a fleet', () => {
  it('canary, 50%, all: each stage waits for its acks, whatever their order and repeats', () => {
    const f = new Fleet({ c: 0, p1: 1, p2: 1, a1: 2, a2: 2 }, three);
    f.tick(1);
    expect(f.trace).toEqual(['publish c']);
    f.tick(2); // a tick with nothing new publishes nothing again
    f.ack('c', f.generationOf('c'), 'applied', 3);
    f.tick(3);
    expect(f.trace).toEqual(['publish c', 'stage-passed 1', 'publish p1,p2']);
    // p2 answers first, then twice more; p1 acks an old generation it once had (counts for nothing).
    f.ack('p2', f.generationOf('p2'), 'applied', 4);
    f.ack('p2', f.generationOf('p2'), 'rejected', 5);
    f.ack('p1', f.generationOf('p1') - 1, 'applied', 5);
    f.tick(5);
    expect(f.progress).toMatchObject({ state: 'running', stage: 1 });
    f.ack('p1', f.generationOf('p1'), 'applied', 6);
    f.tick(6);
    expect(f.trace.slice(2)).toEqual(['publish p1,p2', 'stage-passed 2', 'publish a1,a2']);
    f.ack('a2', f.generationOf('a2'), 'applied', 7);
    f.ack('a1', f.generationOf('a1'), 'applied', 7);
    f.tick(7);
    expect(f.trace.at(-1)).toBe('complete 3');
    expect(f.progress).toEqual(progress({ state: 'completed', stage: 3 }));
  });

  it('halts at the stage where a site rejects: later stages get nothing', () => {
    const f = new Fleet({ c: 0, a: 1 }, three);
    f.tick(1);
    f.ack('c', f.generationOf('c'), 'rejected', 2);
    f.tick(2);
    f.tick(3);
    expect(f.trace).toEqual(['publish c', `halt: site c rejected generation ${f.generationOf('c')}: POLICY_CAPACITY`]);
    expect(f.progress).toMatchObject({ state: 'failed', stage: 0 });
  });

  it('holds each acked stage for the audit window, by the clock it is given', () => {
    const f = new Fleet({ c: 0, a: 1 }, { stageCount: 2, auditWindowS: 60 });
    f.tick(0);
    f.ack('c', 1, 'applied', 1000);
    f.tick(1000);
    f.tick(60_999);
    expect(f.trace).toEqual(['publish c']);
    f.tick(61_000);
    expect(f.trace).toEqual(['publish c', 'stage-passed 1', 'publish a']);
  });
});

describe('joining a rollout on enrollment', () => {
  const rollout = (id: number, state: RolloutState, matchLabels: Record<string, string>, policyVersion = 5): RolloutRecord => ({
    id,
    kind: 'rollout',
    policyVersion,
    selector: { matchLabels },
    stages: [
      { name: 'canary', sites: ['x'] },
      { name: 'all', percent: 100 },
    ],
    auditWindowS: 0,
    state,
    stage: 0,
    stageAckedAt: null,
    reason: null,
    createdBy: 'ops',
    createdAt: id,
    updatedAt: id,
  });
  const store = { labels: { kind: 'store' } };

  it.each<[string, RolloutRecord[], number | null]>([
    ['no rollout yet: nothing', [], null],
    [
      'the newest covering running or completed one, in its last stage',
      [rollout(3, 'running', { kind: 'factory' }), rollout(2, 'completed', {}), rollout(1, 'running', {})],
      2,
    ],
    [
      'failed, superseded and rolled-back ones are passed over',
      [rollout(4, 'failed', {}), rollout(3, 'superseded', {}), rollout(2, 'rolled-back', {}), rollout(1, 'completed', { kind: 'store' })],
      1,
    ],
    ['the newest covering one rolls out version 0 (no policies): nothing', [rollout(2, 'completed', {}, 0), rollout(1, 'completed', {})], null],
  ])('%s', (_name, newestFirst, want) => {
    const got = joinTarget(newestFirst, store);
    expect(got && { id: got.rollout.id, stage: got.stage }).toEqual(want === null ? null : { id: want, stage: 1 });
  });
});
