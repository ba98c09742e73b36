// Every benchmark writes bench/results/<name>.json and its own section of docs/benchmarks.md,
// between markers, so benchmarks run separately never overwrite each other's tables.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, totalmem, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface Machine {
  cpus: number;
  cpuModel: string;
  memGiB: number;
  kernel: string;
  node: string;
}

export function machine(): Machine {
  const c = cpus();
  return { cpus: c.length, cpuModel: c[0]?.model ?? 'unknown', memGiB: Math.round(totalmem() / 2 ** 30), kernel: release(), node: process.version };
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/** A markdown table from rows of cells. */
export function table(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.map(String).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export interface Report {
  /** benchmark name: bench/results/<name>.json */
  name: string;
  title: string;
  /** How to reproduce, what was compared with what, how many runs. */
  method: string;
  /** Markdown (tables, notes) for docs/benchmarks.md. */
  markdown: string;
  results: unknown;
}

export function writeReport(r: Report): void {
  const json = join(root, 'bench', 'results', `${r.name}.json`);
  mkdirSync(dirname(json), { recursive: true });
  writeFileSync(json, JSON.stringify({ name: r.name, at: new Date().toISOString(), machine: machine(), method: r.method, results: r.results }, null, 2) + '\n');

  const doc = join(root, 'docs', 'benchmarks.md');
  const begin = `<!-- bench:${r.name}:begin -->`;
  const end = `<!-- bench:${r.name}:end -->`;
  const m = machine();
  const section = `${begin}\n## ${r.title}\n\n${r.method}\n\nMachine: ${m.cpus} × ${m.cpuModel}, ${m.memGiB} GiB, Linux ${m.kernel}, Node ${m.node}. Raw: \`bench/results/${r.name}.json\`.\n\n${r.markdown}\n${end}`;
  let text = existsSync(doc)
    ? readFileSync(doc, 'utf8')
    : '# Benchmarks\n\nEach section is written by its benchmark (`npm run bench:<name>`); numbers are from the last run on the machine named in it.\n';
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  text = i >= 0 && j > i ? text.slice(0, i) + section + text.slice(j + end.length) : `${text.trimEnd()}\n\n${section}\n`;
  mkdirSync(dirname(doc), { recursive: true });
  writeFileSync(doc, text);
}
