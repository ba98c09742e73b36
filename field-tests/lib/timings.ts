// Timings the field scenarios measure (enforcing after a restart, failover, push -> acked), kept
// as they happen and written to bench/results/field.json and docs/benchmarks.md at the end.
// Tests assert behaviour, not these numbers (the machine is shared and loaded); they are recorded.
// One run is one measurement of each, so the report keeps the last RUNS_KEPT runs of each pod layout
// and shows their median beside the per-run values and each run's load average.
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

export type PodLayout = 'bridge' | 'routed';

export interface FieldRun {
  at: string;
  podNetwork: PodLayout;
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

/** Keeps the newest RUNS_KEPT runs of each layout, oldest first. */
export function keepRuns(runs: FieldRun[]): FieldRun[] {
  const kept: FieldRun[] = [];
  for (const layout of ['bridge', 'routed'] as const) kept.push(...runs.filter((r) => r.podNetwork === layout).slice(-RUNS_KEPT));
  return kept;
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

  constructor(private readonly podNetwork: PodLayout = 'bridge', private readonly file = RESULTS) {}

  record(t: Timing): void {
    this.all.push(t);
  }

  write(): void {
    if (this.all.length === 0) return;
    const run: FieldRun = { at: new Date().toISOString(), podNetwork: this.podNetwork, loadavg: { start: this.loadAtStart, end: loadavg() }, timings: this.all };
    const runs = keepRuns([...previousRuns(this.file), run]);
    const sections = (['bridge', 'routed'] as const)
      .map((layout) => ({ layout, runs: runs.filter((r) => r.podNetwork === layout) }))
      .filter((s) => s.runs.length > 0)
      .map((s) => `### ${s.layout === 'bridge' ? 'Pods on the site bridge (k3s flannel layout)' : 'Routed pods (calico layout)'}: ${s.runs.length} run(s)\n\n${summarize(s.runs)}`);
    writeReport({
      name: 'field',
      title: 'Field scenarios (multi-site fabric on network namespaces)',
      method: 'Measured by `CI=true flock /tmp/weft-bench.lock npx vitest run field-tests/fabric-scenarios.test.ts` (as root; '
        + '`WEFT_FIELD_POD_NETWORK=routed` for routed pods): one hub and three sites in network namespaces, WireGuard (wireguard-go) '
        + 'between them, real agents (bundled, as shipped) with the libbpf datapath, real TCP between pods. Each run measures each '
        + `thing once; every run appends itself and the last ${RUNS_KEPT} runs of each pod layout are kept, so the median is over `
        + 'those runs, next to each run\'s own value.',
      markdown: sections.join('\n\n'),
      results: { runsKept: RUNS_KEPT, runs },
    });
  }
}
