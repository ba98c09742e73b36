// Removing what runs create: namespaces (after killing every process inside them), WireGuard
// UAPI sockets, and a sweep for what crashed runs (dead owner pid) left behind.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { exec, execQuietSync } from './exec.ts';
import { FIELD_CACHE } from './repo.ts';
import { BPFFS, isOurWgSocket, ownerOfNetns, ownerOfRunDir, RUN_KINDS } from './names.ts';
import type { RunKind } from './names.ts';

export const WG_SOCKET_DIR = '/var/run/wireguard';

/** True for a running process; a zombie (dead, not yet reaped by its parent) counts as dead. */
export function isAlive(pid: number): boolean {
  try {
    // /proc/<pid>/stat: "pid (comm) S ..."; comm may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function parseNames(out: string): string[] {
  // `ip netns list` prints "name" or "name (id: N)"
  return out
    .split('\n')
    .map((l) => l.split(' ')[0])
    .filter(Boolean);
}

export async function listNetns(): Promise<string[]> {
  return parseNames((await exec(undefined, ['ip', 'netns', 'list'])).stdout);
}

function pidsIn(out: string): number[] {
  return out
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((p) => p !== process.pid);
}

/** Kills everything in the namespace with SIGKILL and deletes it; returns the pids killed. */
export async function removeNetns(name: string): Promise<number[]> {
  const pids = pidsIn((await exec(undefined, ['ip', 'netns', 'pids', name])).stdout);
  for (const pid of pids) killQuietly(pid);
  await exec(undefined, ['ip', 'netns', 'del', name]);
  return pids;
}

export function removeNetnsSync(name: string): void {
  for (const pid of pidsIn(execQuietSync(['ip', 'netns', 'pids', name]))) killQuietly(pid);
  execQuietSync(['ip', 'netns', 'del', name]);
}

export function killQuietly(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

export function wgSockets(tag?: string, kind?: RunKind): string[] {
  try {
    return readdirSync(WG_SOCKET_DIR).filter((f) => isOurWgSocket(f, tag, kind));
  } catch {
    return [];
  }
}

/** Removes this run's socket files (their daemons are dead once the namespaces are gone). */
export function removeWgSockets(tag: string, kind?: RunKind): string[] {
  const files = wgSockets(tag, kind);
  for (const f of files) rmSync(join(WG_SOCKET_DIR, f), { force: true });
  return files;
}

function socketRefuses(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    s.on('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.on('error', () => resolve(true));
  });
}

/** Pin directories under bpffs whose name starts with `prefix` (an agent's pinned maps and programs). */
export function pinDirs(prefix: string): string[] {
  try {
    return readdirSync(BPFFS).filter((f) => f.startsWith(prefix));
  } catch {
    return [];
  }
}

/** Unpins (removes) a run's pin directories; returns their names. */
export function removePins(prefix: string): string[] {
  const dirs = pinDirs(prefix);
  for (const d of dirs) rmSync(join(BPFFS, d), { recursive: true, force: true });
  return dirs;
}

export interface SweepReport {
  netns: string[];
  pins: string[];
  sockets: string[];
  dirs: string[];
}

/** Removes namespaces, pins, agent bundles and run directories of runs whose process is gone, and our socket files nobody listens on. */
export async function sweepStale(): Promise<SweepReport> {
  const netns: string[] = [];
  for (const name of await listNetns()) {
    const owner = ownerOfNetns(name);
    if (owner && !isAlive(owner.pid)) {
      await removeNetns(name);
      netns.push(name);
    }
  }
  const pins: string[] = [];
  for (const d of RUN_KINDS.flatMap((k) => pinDirs(`${k}-`))) {
    const owner = ownerOfNetns(d);
    if (owner && !isAlive(owner.pid)) pins.push(...removePins(d));
  }
  for (const d of existsSync(FIELD_CACHE) ? readdirSync(FIELD_CACHE) : []) {
    const owner = ownerOfNetns(`${d}-`);
    if (owner && !isAlive(owner.pid)) rmSync(join(FIELD_CACHE, d), { recursive: true, force: true });
  }
  const sockets: string[] = [];
  for (const f of wgSockets()) {
    if (await socketRefuses(join(WG_SOCKET_DIR, f))) {
      rmSync(join(WG_SOCKET_DIR, f), { force: true });
      sockets.push(f);
    }
  }
  const dirs: string[] = [];
  for (const d of readdirSync(tmpdir())) {
    const pid = ownerOfRunDir(d);
    if (pid !== undefined && !isAlive(pid)) {
      rmSync(join(tmpdir(), d), { recursive: true, force: true });
      dirs.push(d);
    }
  }
  return { netns, pins, sockets, dirs };
}

type SyncCleanup = () => void;
interface Pending {
  fn: SyncCleanup;
  onSignals: boolean;
}
const pending = new Set<Pending>();
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let exitInstalled = false;
let signalsInstalled = false;

function runPending(filter: (p: Pending) => boolean): void {
  for (const p of [...pending].filter(filter)) {
    pending.delete(p);
    p.fn();
  }
}

function onSignal(signal: NodeJS.Signals): void {
  runPending((p) => p.onSignals);
  // Alone on this signal: restore the default action and re-raise, so the process still dies
  // of it. Otherwise the program has its own handler (e.g. a graceful Ctrl-C) and decides.
  if (process.listenerCount(signal) === 1) {
    for (const s of SIGNALS) process.off(s, onSignal);
    signalsInstalled = false;
    process.kill(process.pid, signal);
  }
}

/**
 * Runs `fn` (synchronously) if the process exits, or (with onSignals) gets SIGINT/SIGTERM/SIGHUP,
 * before the returned function is called. A SIGKILL cannot be caught: sweepStale() handles that.
 */
export function onProcessExit(fn: SyncCleanup, opts: { onSignals: boolean }): () => void {
  if (!exitInstalled) {
    exitInstalled = true;
    process.on('exit', () => runPending(() => true));
  }
  if (opts.onSignals && !signalsInstalled) {
    signalsInstalled = true;
    for (const s of SIGNALS) process.on(s, onSignal);
  }
  const entry = { fn, onSignals: opts.onSignals };
  pending.add(entry);
  return () => pending.delete(entry);
}
