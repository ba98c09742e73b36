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
  opts: { seconds: number; subnet: string | null; clients?: number; outstanding?: number },
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
  const { stdout } = await run('dnsperf', args, { timeout: (opts.seconds + 30) * 1000 });
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
  };
}
