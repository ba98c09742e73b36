// npm run bench:policy — compile time and peak memory of the policy compiler for 100/1k/10k
// policies × 100/1k/5k pods, and flows per second of the reference evaluator side by side with the
// compiled-table lookup (the TypeScript mirror of the kernel's lookups) on the same flows.
// Each size runs in its own child process, so peak memory (max RSS) is that size's alone.
import { execFile } from 'node:child_process';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { compile, DEFAULT_LIMITS, evaluate, loadPolicies, lookup, type Flow } from '../policy/index.ts';
import { median, table, writeReport } from './lib/report.ts';
import { workload } from './policy-workload.ts';

const POLICIES = [100, 1000, 10000];
const PODS = [100, 1000, 5000];
const RUNS = 3;
/** A size that takes longer than this in one child is reported as skipped, not waited for. */
const CHILD_TIMEOUT_MS = 240_000;

interface SizeResult {
  policies: number;
  pods: number;
  loadMs: number;
  compileMs: number[];
  compileMedianMs: number;
  /** CPU time (user + system) of each compile: what the compiler costs when the shared machine is busy. */
  compileCpuMs: number[];
  compileCpuMedianMs: number;
  maxRssMiB: number;
  sizes: Record<string, number>;
}

const UNLIMITED = { endpoints: 1e9, ipcache: 1e9, sets: 1e9, rules: 1e9 };

function one(policies: number, pods: number): SizeResult {
  const w = workload(policies, pods);
  const t0 = performance.now();
  const first = loadPolicies(w.objects);
  const loadMs = performance.now() - t0;
  if (first.errors.length > 0) throw new Error(`workload invalid: ${first.errors[0].message}`);
  // One warm-up compile (JIT), not counted: an agent compiles in a long-running process.
  compile(first.policies, first.inventory, { limits: UNLIMITED });
  const compileMs: number[] = [];
  const compileCpuMs: number[] = [];
  let sizes = {};
  for (let i = 0; i < RUNS; i++) {
    // Freshly loaded objects each run, so no per-(policies, inventory) cache carries over.
    const loaded = loadPolicies(w.objects);
    const t = performance.now();
    const c = process.cpuUsage();
    sizes = compile(loaded.policies, loaded.inventory, { limits: UNLIMITED }).sizes;
    const cpu = process.cpuUsage(c);
    compileMs.push(performance.now() - t);
    compileCpuMs.push((cpu.user + cpu.system) / 1000);
  }
  return {
    policies,
    pods,
    loadMs,
    compileMs,
    compileMedianMs: median(compileMs),
    compileCpuMs,
    compileCpuMedianMs: median(compileCpuMs),
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    sizes,
  };
}

function flowsPerSecond(): { flows: number; evaluatorPerS: number; tablesPerS: number; compileMs: number } {
  const w = workload(1000, 1000);
  const { policies, inventory } = loadPolicies(w.objects);
  const t = performance.now();
  const tables = compile(policies, inventory, { limits: UNLIMITED });
  const compileMs = performance.now() - t;
  let seed = 7;
  const next = (n: number) => (seed = (seed * 1103515245 + 12345) >>> 0) % n;
  const ends = [...w.pods, '10.1.2.3', '8.8.8.8', '10.200.0.1'];
  const flows: Flow[] = Array.from({ length: 50_000 }, () => ({
    src: ends[next(ends.length)],
    dst: ends[next(ends.length)],
    protocol: (['TCP', 'UDP', 'SCTP'] as const)[next(3)],
    port: [53, 8000, 8001, 8150, 9100, 443][next(6)],
  }));
  const rate = (fn: (f: Flow) => unknown) => {
    for (const f of flows.slice(0, 2000)) fn(f); // warm up
    const s = performance.now();
    for (const f of flows) fn(f);
    return flows.length / ((performance.now() - s) / 1000);
  };
  return { flows: flows.length, evaluatorPerS: rate((f) => evaluate(policies, inventory, f)), tablesPerS: rate((f) => lookup(tables, f)), compileMs };
}

async function main(): Promise<void> {
  const [flag, p, n] = process.argv.slice(2);
  if (flag === '--one') {
    process.stdout.write(JSON.stringify(one(Number(p), Number(n))));
    return;
  }
  if (flag === '--flows') {
    process.stdout.write(JSON.stringify(flowsPerSecond()));
    return;
  }
  const self = resolve(import.meta.dirname, 'policy.ts');
  const runner = resolve(import.meta.dirname, '..', 'bin', 'run.mjs');
  const child = async (...args: string[]) =>
    JSON.parse((await promisify(execFile)(process.execPath, [runner, self, ...args], { timeout: CHILD_TIMEOUT_MS, maxBuffer: 1 << 20 })).stdout);
  const load = loadavg();
  const sizes: (SizeResult | { policies: number; pods: number; skipped: string })[] = [];
  for (const policies of POLICIES) {
    for (const pods of PODS) {
      process.stderr.write(`bench:policy ${policies} policies × ${pods} pods ... `);
      try {
        const r = (await child('--one', String(policies), String(pods))) as SizeResult;
        sizes.push(r);
        process.stderr.write(`${r.compileMedianMs.toFixed(0)} ms (${r.compileCpuMedianMs.toFixed(0)} ms CPU), ${r.maxRssMiB.toFixed(0)} MiB\n`);
      } catch (e) {
        const why =
          e instanceof Error && 'killed' in e && e.killed
            ? `took over ${CHILD_TIMEOUT_MS / 1000} s`
            : e instanceof Error
              ? e.message.split('\n')[0]
              : String(e);
        sizes.push({ policies, pods, skipped: why });
        process.stderr.write(`skipped: ${why}\n`);
      }
    }
  }
  process.stderr.write('bench:policy flows per second ...\n');
  const flows = (await child('--flows')) as ReturnType<typeof flowsPerSecond>;
  const rows = sizes.map((s) =>
    'skipped' in s
      ? [s.policies, s.pods, 'skipped', s.skipped, '', '', '', '']
      : [
          s.policies,
          s.pods,
          s.loadMs.toFixed(0),
          s.compileMedianMs.toFixed(0),
          s.compileCpuMedianMs.toFixed(0),
          s.maxRssMiB.toFixed(0),
          s.sizes.sets,
          s.sizes.rules,
        ],
  );
  const target = sizes.find((s) => s.policies === 1000 && s.pods === 1000);
  const markdown = [
    table(['policies', 'pods', 'validate ms', `compile ms (median of ${RUNS})`, 'compile CPU ms', 'peak RSS MiB', 'rule sets', 'rule entries'], rows),
    '',
    `Target: 1k policies × 1k pods compiles in under 300 ms — measured ${target && !('skipped' in target) ? `${target.compileMedianMs.toFixed(0)} ms (${target.compileCpuMedianMs.toFixed(0)} ms CPU)` : 'n/a'}; load average at the start ${load.map((x) => x.toFixed(1)).join(', ')}.`,
    '',
    `Rule entries above the default map limit (${DEFAULT_LIMITS.rules}) would make \`compile\` fail with POLICY_CAPACITY on a site; the benchmark lifts the limits to time the compiler alone.`,
    '',
    table(
      ['per flow, 1k policies × 1k pods', 'flows/s'],
      [
        ['reference evaluator (policy.evaluate)', Math.round(flows.evaluatorPerS)],
        ['compiled tables (policy.lookup, the kernel lookups in TypeScript)', Math.round(flows.tablesPerS)],
      ],
    ),
  ].join('\n');
  writeReport({
    name: 'policy',
    title: 'Policy compiler and evaluator',
    method: `\`npm run bench:policy\`. A synthetic site (bench/policy-workload.ts: namespaces of 20 pods, 90% NetworkPolicies per app with pod, namespace, ipBlock peers and numeric, named and endPort ports, 10% AdminNetworkPolicies, one baseline), validated, compiled once to warm up, then validated afresh and compiled ${RUNS} times per size in a fresh process (peak RSS is that process's); wall and CPU time of each compile (the machine is shared, so CPU time is the steadier figure; it is process-wide and includes V8's parallel GC threads, hence CPU > wall on an idle machine). Flows/s: ${flows.flows} random flows through the reference evaluator and through the compiled tables' lookup, same flows, same process. No outside peer runs here: the compilers users would otherwise pick (Cilium's, Calico's) need a cluster, so the evaluator is the side-by-side baseline for the tables.`,
    markdown,
    results: { loadAverage: load, sizes, flows },
  });
  process.stderr.write('bench:policy done: bench/results/policy.json, docs/benchmarks.md\n');
}

await main();
