// Timings the field scenarios measure (enforcing after a restart, failover, push -> acked), kept
// as they happen and written to bench/results/field.json and docs/benchmarks.md at the end.
// Tests assert behaviour, not these numbers (the machine is shared and loaded); they are recorded.
import { loadavg } from 'node:os';
import { table, writeReport } from '../../bench/lib/report.ts';

export interface Timing {
  scenario: string;
  what: string;
  ms: number;
  /** The target the issue names, when there is one. */
  targetMs?: number;
  note?: string;
}

export class Timings {
  readonly all: Timing[] = [];

  record(t: Timing): void {
    this.all.push(t);
  }

  write(): void {
    if (this.all.length === 0) return;
    const load = loadavg().map((l) => l.toFixed(2)).join(' ');
    writeReport({
      name: 'field',
      title: 'Field scenarios (multi-site fabric on network namespaces)',
      method: 'Measured by `CI=true npx vitest run field-tests/` (as root): one hub and three sites in network namespaces, '
        + 'WireGuard (wireguard-go) between them, real agents with the libbpf datapath, real TCP between pods. '
        + `One run; each number is one measurement. Load average at the end of the run: ${load}.`,
      markdown: table(['scenario', 'what', 'ms', 'target ms', 'note'], this.all.map((t) => [t.scenario, t.what, Math.round(t.ms), t.targetMs ?? '', t.note ?? ''])),
      results: { loadavg: loadavg(), timings: this.all },
    });
  }
}
