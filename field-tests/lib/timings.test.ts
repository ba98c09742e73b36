// The field report's arithmetic: which runs are kept, and the median beside each run's value.
import { describe, expect, it } from 'vitest';
import { keepAllLayouts, keepRuns, RUNS_KEPT, summarize } from './timings.ts';
import type { FieldRun } from './timings.ts';

const run = (n: number, layout: string, ms: Record<string, number>): FieldRun => ({
  at: `2026-01-0${n}T00:00:00Z`,
  layout,
  loadavg: { start: [n, 0, 0], end: [n + 0.5, 0, 0] },
  timings: Object.entries(ms).map(([what, v]) => ({ scenario: 's', what, ms: v })),
});

describe('field timings report', () => {
  it('keeps the newest runs of the same layout only, oldest first', () => {
    const runs = [run(1, 'a', {}), run(2, 'b', {}), run(3, 'a', {}), run(4, 'a', {}), run(5, 'a', {})];
    expect(RUNS_KEPT).toBe(3);
    expect(keepRuns(runs, 'a').map((r) => r.at)).toEqual([runs[2].at, runs[3].at, runs[4].at]);
    expect(keepRuns(runs, 'b')).toEqual([runs[1]]);
  });

  it('keeps every layout beside the one that ran: the multi-site and the multi-node scenarios share the report', () => {
    const runs = [run(1, 'a', {}), run(2, 'b', {}), run(3, 'a', {}), run(4, 'a', {}), run(5, 'a', {}), run(6, 'b', {})];
    expect(keepAllLayouts(runs, 'b').map((r) => r.at)).toEqual([runs[1].at, runs[2].at, runs[3].at, runs[4].at, runs[5].at]);
  });

  it('shows the median over the runs next to every run, a blank where a run lacks the measure, and each load', () => {
    const md = summarize([run(1, 'a', { x: 300, y: 7 }), run(2, 'a', { x: 100 }), run(3, 'a', { x: 200, y: 9 })]);
    expect(md).toContain('| s | x | 200 | 300 | 100 | 200 |');
    expect(md).toContain('| s | y | 8 | 7 |  | 9 |');
    expect(md).toContain('median ms | run 1 ms | run 2 ms | run 3 ms');
    expect(md).toMatch(/run 2 at 2026-01-02T00:00:00Z: load 2\.00 0\.00 0\.00 at the start, 2\.50 0\.00 0\.00 at the end/);
  });
});
