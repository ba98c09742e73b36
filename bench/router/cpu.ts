// CPU time of the processes serving DNS, read from /proc: on a shared machine QPS moves with
// everyone else's load, CPU time per answered query much less, so both go into the results.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_S = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

interface Proc {
  ppid: number;
  /** utime + stime, in clock ticks (all threads of the process). */
  ticks: number;
}

function procs(): Map<number, Proc> {
  const out = new Map<number, Proc>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      // Fields after the command name, which may hold spaces and parentheses: state is [0], ppid [1].
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(d), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      // exited while we looked
    }
  }
  return out;
}

/** The process ids under `root` (children, grandchildren...) whose command line contains `needle`. */
export function descendants(root: number, needle: string): number[] {
  const all = procs();
  const under = (pid: number): boolean => {
    for (let p = all.get(pid)?.ppid ?? 0; p > 1; p = all.get(p)?.ppid ?? 0) if (p === root) return true;
    return false;
  };
  return [...all.keys()].filter((pid) => {
    if (!under(pid)) return false;
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle);
    } catch {
      return false;
    }
  });
}

/** CPU seconds (user + system) used so far by these processes and every process under them. */
export function cpuSeconds(pids: number[]): number {
  const all = procs();
  const roots = new Set(pids);
  let ticks = 0;
  for (const [pid, p] of all) {
    for (let q = pid; q > 1; q = all.get(q)?.ppid ?? 0)
      if (roots.has(q)) {
        ticks += p.ticks;
        break;
      }
  }
  return ticks / TICKS_PER_S;
}
