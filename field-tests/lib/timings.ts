// Timings the field scenarios measure (enforcing after a restart, failover, push -> acked), kept
// as they happen and written to bench/results/field.json and docs/benchmarks.md at the end.
// Tests assert behaviour, not these numbers (the machine is shared and loaded); they are recorded.
// One run is one measurement of each, so the report keeps the last RUNS_KEPT runs of the same fabric
// layout and shows their median beside the per-run values and each run's load average.
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { median, table, writeReport } from '../../bench/lib/report.ts';
import { REPO_ROOT } from './repo.ts';

export interface Timing {
  scenario: string;
  what: string;
  ms: number;
  /** The target the issue names, when there is one. */
  targetMs?: number;
  note?: string;
}

export interface FieldRun {
  at: string;
  /** How the fabric was laid out; only runs of the same layout are compared. */
  layout: string;
  /** 1/5/15-minute load averages when the fabric was built and when the run ended. */
  loadavg: { start: number[]; end: number[] };
  timings: Timing[];
}

export const RUNS_KEPT = 3;
const RESULTS = join(REPO_ROOT, 'bench', 'results', 'field.json');

/** Runs of an earlier field.json worth keeping (older formats held no runs: nothing to keep). */
function previousRuns(file: string): FieldRun[] {
  if (!existsSync(file)) return [];
  try {
    const runs = (JSON.parse(readFileSync(file, 'utf8')) as { results?: { runs?: FieldRun[] } }).results?.runs;
    return Array.isArray(runs) ? runs : [];
  } catch {
    return [];
  }
}

/** The newest RUNS_KEPT runs of `layout`, oldest first. */
export function keepRuns(runs: FieldRun[], layout: string): FieldRun[] {
  return runs.filter((r) => r.layout === layout).slice(-RUNS_KEPT);
}

/**
 * What the report keeps after a run of `layout`: the newest RUNS_KEPT runs of every layout (the
 * multi-site scenarios and the multi-node site write to the same report, side by side), oldest first.
 */
export function keepAllLayouts(runs: FieldRun[], layout: string): FieldRun[] {
  const layouts = [...new Set([...runs.map((r) => r.layout), layout])];
  const kept = new Set(layouts.flatMap((l) => keepRuns(runs, l)));
  return runs.filter((r) => kept.has(r));
}

const fmtLoad = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');

/** One row per measured thing, in the order of the newest run: median, then each run's value. */
export function summarize(runs: FieldRun[]): string {
  if (runs.length === 0) return '';
  const newest = runs[runs.length - 1];
  const cols = runs.map((_, i) => `run ${i + 1} ms`);
  const rows = newest.timings.map((t) => {
    const per = runs.map((r) => r.timings.find((x) => x.scenario === t.scenario && x.what === t.what)?.ms);
    const got = per.filter((x): x is number => x !== undefined);
    return [t.scenario, t.what, Math.round(median(got)), ...per.map((x) => (x === undefined ? '' : Math.round(x))), t.targetMs ?? '', t.note ?? ''];
  });
  const loads = runs.map((r, i) => `run ${i + 1} at ${r.at}: load ${fmtLoad(r.loadavg.start)} at the start, ${fmtLoad(r.loadavg.end)} at the end`);
  return `${table(['scenario', 'what', 'median ms', ...cols, 'target ms', 'note'], rows)}\n\nLoad averages (1/5/15 min): ${loads.join('; ')}.`;
}

export class Timings {
  readonly all: Timing[] = [];
  private readonly loadAtStart = loadavg();

  /** `test`: the file that measures this layout (named in the report's method). */
  constructor(
    readonly layout: string,
    private readonly test = 'field-tests/fabric-scenarios.kernel.test.ts',
  ) {}

  record(t: Timing): void {
    this.all.push(t);
  }

  write(): void {
    if (this.all.length === 0) return;
    const run: FieldRun = { at: new Date().toISOString(), layout: this.layout, loadavg: { start: this.loadAtStart, end: loadavg() }, timings: this.all };
    const runs = keepAllLayouts([...previousRuns(RESULTS), run], this.layout);
    const layouts = [...new Set(runs.map((r) => r.layout))];
    writeReport({
      name: 'field',
      title: 'Field scenarios (multi-site fabric on network namespaces)',
      method:
        'Measured by `CI=true flock /tmp/weft-bench.lock npx vitest run field-tests/fabric-scenarios.kernel.test.ts` (one hub and three ' +
        'sites) and `field-tests/multi-node.kernel.test.ts` (a site of three nodes beside a one-node site), as root: network namespaces, ' +
        'WireGuard (wireguard-go) to the hub, real agents with the libbpf datapath, real TCP between pods. Each run measures each thing ' +
        `once; every run that passes appends itself and the last ${RUNS_KEPT} runs of each layout are kept (this run: ${this.test}). ` +
        "The median is over those runs, next to each run's own value.",
      markdown: layouts.map((l) => `### ${l}\n\n${summarize(runs.filter((r) => r.layout === l))}`).join('\n\n'),
      results: { runsKept: RUNS_KEPT, runs },
    });
  }
}
