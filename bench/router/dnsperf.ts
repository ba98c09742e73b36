// Runs dnsperf against a server and parses its summary.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface DnsperfResult {
  qps: number;
  sent: number;
  completed: number;
  lost: number;
  avgLatencyMs: number;
  minLatencyMs: number;
  maxLatencyMs: number;
  stddevLatencyMs: number;
  /** With perQuery: percentiles over every answered query's latency (dnsperf -v). */
  p50Ms?: number;
  p99Ms?: number;
}

/** The ECS option as dnsperf's -E takes it: code 8, hex of family, source prefix, scope 0, address. */
export function ecsOption(subnet: string): string {
  const [ip, prefix] = subnet.split('/');
  const bytes = ip
    .split('.')
    .map(Number)
    .slice(0, Math.ceil(Number(prefix) / 8));
  const hex = (n: number, w: number) => n.toString(16).padStart(w, '0');
  return `8:${hex(1, 4)}${hex(Number(prefix), 2)}00${bytes.map((b) => hex(b, 2)).join('')}`;
}

export async function dnsperf(
  dir: string,
  port: number,
  name: string,
  opts: { seconds: number; subnet: string | null; clients?: number; outstanding?: number; maxQps?: number; perQuery?: boolean; nice?: number },
): Promise<DnsperfResult> {
  const data = join(dir, `queries-${name}.txt`);
  writeFileSync(data, `${name} A\n`);
  const args = [
    '-s',
    '127.0.0.1',
    '-p',
    String(port),
    '-d',
    data,
    '-l',
    String(opts.seconds),
    '-c',
    String(opts.clients ?? 4),
    '-q',
    String(opts.outstanding ?? 200),
    '-t',
    '2',
  ];
  if (opts.subnet) args.push('-E', ecsOption(opts.subnet));
  if (opts.maxQps) args.push('-Q', String(opts.maxQps));
  if (opts.perQuery) args.push('-v');
  // nice: run dnsperf at another priority (bench:abuse raises it: it stands for resolvers elsewhere).
  const [cmd, argv] = opts.nice === undefined ? ['dnsperf', args] : ['nice', ['-n', String(opts.nice), 'dnsperf', ...args]];
  const { stdout } = await run(cmd, argv, { timeout: (opts.seconds + 30) * 1000, maxBuffer: 1 << 30 });
  const num = (re: RegExp) => Number(stdout.match(re)?.[1] ?? NaN);
  return {
    qps: Math.round(num(/Queries per second:\s+([\d.]+)/)),
    sent: num(/Queries sent:\s+(\d+)/),
    completed: num(/Queries completed:\s+(\d+)/),
    lost: num(/Queries lost:\s+(\d+)/),
    avgLatencyMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
    minLatencyMs: num(/Average Latency \(s\):\s+[\d.]+ \(min ([\d.]+)/) * 1000,
    maxLatencyMs: num(/Average Latency \(s\):.*max ([\d.]+)\)/) * 1000,
    stddevLatencyMs: num(/Latency StdDev \(s\):\s+([\d.]+)/) * 1000,
    ...(opts.perQuery ? percentiles(stdout) : {}),
  };
}

/** p50 and p99 over the `> RCODE name type latency` lines dnsperf -v prints for each answer. */
function percentiles(stdout: string): { p50Ms: number; p99Ms: number } {
  const ms: number[] = [];
  for (const m of stdout.matchAll(/^> \S+ \S+ \S+ ([\d.]+)$/gm)) ms.push(Number(m[1]) * 1000);
  ms.sort((a, b) => a - b);
  const at = (p: number) => (ms.length ? ms[Math.min(ms.length - 1, Math.ceil((p / 100) * ms.length) - 1)] : NaN);
  return { p50Ms: at(50), p99Ms: at(99) };
}
