import { describe, expect, it } from 'vitest';
import type { RolloutRecord, RolloutSite } from '../store/types.ts';
import type { RolloutStatus } from './engine.ts';
import { progressDelta, type SentRows } from './progress.ts';

const rollout = (state: RolloutRecord['state']): RolloutRecord => ({
  id: 1,
  kind: 'rollout',
  policyVersion: 2,
  selector: { matchLabels: {} },
  stages: [{ name: 'all', percent: 100 }],
  auditWindowS: 0,
  state,
  stage: 0,
  stageAckedAt: null,
  reason: null,
  createdBy: 'ops',
  createdAt: 0,
  updatedAt: 0,
});
const row = (siteId: string, result: RolloutSite['result']): RolloutSite => ({
  rolloutId: 1,
  siteId,
  stage: 0,
  policyVersion: 2,
  generation: 3,
  publishedAt: 1,
  result,
  code: null,
  reason: null,
  ackedAt: result ? 5 : null,
});
const status = (state: RolloutRecord['state'], rows: RolloutSite[]): RolloutStatus => ({
  rollout: rollout(state),
  stages: [
    {
      index: 0,
      name: 'all',
      sites: rows,
      applied: rows.filter((r) => r.result === 'applied').length,
      rejected: 0,
      pending: rows.filter((r) => !r.result).length,
    },
  ],
});

describe('progressDelta', () => {
  it('sends every row first, then only the rows that changed, and nothing when nothing did', () => {
    const sent: SentRows = new Map();
    const first = progressDelta(status('running', [row('a', null), row('b', null)]), sent, null)!;
    expect(first.sites.map((s) => s.siteId)).toEqual(['a', 'b']);
    expect(first.stages).toEqual([{ index: 0, name: 'all', total: 2, applied: 0, rejected: 0, pending: 2 }]);
    const second = progressDelta(status('running', [row('a', 'applied'), row('b', null)]), sent, first.rollout)!;
    expect(second.sites).toEqual([row('a', 'applied')]);
    expect(second.stages[0]).toMatchObject({ applied: 1, pending: 1 });
    expect(progressDelta(status('running', [row('a', 'applied'), row('b', null)]), sent, second.rollout)).toBeNull();
    // A change of the rollout alone (paused) is sent, with no rows.
    expect(progressDelta(status('paused', [row('a', 'applied'), row('b', null)]), sent, second.rollout)).toMatchObject({
      rollout: { state: 'paused' },
      sites: [],
    });
  });
});
