// One run of a field test: owns every namespace and process it creates and removes them all
// at cleanup(), at process exit, on SIGINT/SIGTERM, or (after a SIGKILL of the test process)
// at the next run's start.
import { ensureBpffs } from '../../datapath/index.ts';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HarnessError } from './errors.ts';
import { exec, mustExec } from './exec.ts';
import type { ExecResult } from './exec.ts';
import { BPFFS, runDirPrefix, runNames } from './names.ts';
import type { RunKind, RunNames } from './names.ts';
import { NsProcess } from './ns-process.ts';
import type { SpawnOptions } from './ns-process.ts';
import { killQuietly, onProcessExit, removeNetns, removeNetnsSync, removePins, removeWgSockets, sweepStale } from './cleanup.ts';

export interface HarnessOptions {
  /**
   * Clean up synchronously on SIGINT/SIGTERM/SIGHUP (default true). A program with its own
   * graceful shutdown (npm start's Ctrl-C) passes false and calls cleanup() itself; cleanup at
   * process exit stays on either way.
   */
  cleanupOnSignals?: boolean;
  /** Keep the run directory (process logs) after cleanup; also set by WEFT_FIELD_KEEP_LOGS=1. */
  keepLogs?: boolean;
  /** Name prefix of namespaces and WireGuard links: wft (field tests, default) or wst (npm start). */
  kind?: RunKind;
}

export interface CleanupReport {
  netns: string[];
  /** Pids killed: processes we spawned plus anything else found inside our namespaces. */
  pids: number[];
  sockets: string[];
  /** bpffs pin directories of the run's agents (names.pinRoot). */
  pins: string[];
}

export class Harness {
  readonly names: RunNames;
  /** Run directory: logs/ holds one file per spawned process. */
  readonly dir: string;
  private readonly netnsList: string[] = [];
  private readonly procs: NsProcess[] = [];
  private readonly hooks: (() => Promise<void>)[] = [];
  private closed = false;
  private readonly unregister: () => void;

  private constructor(private readonly opts: HarnessOptions) {
    this.names = runNames(undefined, undefined, opts.kind);
    this.dir = mkdtempSync(join(tmpdir(), runDirPrefix(this.names)));
    mkdirSync(join(this.dir, 'logs'));
    this.unregister = onProcessExit(() => this.cleanupSync(), { onSignals: opts.cleanupOnSignals ?? true });
  }

  static async create(opts: HarnessOptions = {}): Promise<Harness> {
    if (process.getuid?.() !== 0)
      throw new HarnessError('HARNESS_NOT_ROOT', 'field tests create network namespaces and need root', 'run the tests as root (CI does)');
    await sweepStale();
    // Agents run in private mount namespaces and bind the host's /sys/fs/bpf (in-site.sh): it must be
    // a bpffs already, or their pins would vanish with them. A new machine has none mounted.
    ensureBpffs(`${BPFFS}/weft`);
    return new Harness(opts);
  }

  private assertOpen(): void {
    if (this.closed) throw new HarnessError('HARNESS_CLOSED', 'this harness was already cleaned up');
  }

  /** Creates the namespace `<prefix><role>` with its loopback up. */
  async addNetns(role: string): Promise<string> {
    this.assertOpen();
    const ns = this.names.netns(role);
    // Recorded before creation, so a failure halfway still gets cleaned up.
    this.netnsList.push(ns);
    await mustExec(undefined, ['ip', 'netns', 'add', ns]);
    await mustExec(undefined, ['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /** Runs a command in a namespace (undefined: the host) and returns its exit code and output. */
  exec(ns: string | undefined, argv: string[], opts?: { input?: string; timeoutMs?: number }): Promise<ExecResult> {
    return exec(ns, argv, opts);
  }

  /** Like exec, but throws HARNESS_COMMAND_FAILED on a non-zero exit; returns stdout. */
  mustExec(ns: string | undefined, argv: string[], opts?: { input?: string; timeoutMs?: number }): Promise<string> {
    return mustExec(ns, argv, opts);
  }

  /** Starts a long-running process in a namespace; it is killed at cleanup if still running. */
  spawn(ns: string | undefined, argv: string[], opts: SpawnOptions): NsProcess {
    this.assertOpen();
    const file = join(this.dir, 'logs', `${opts.name.replace(/[^A-Za-z0-9_.-]/g, '_')}-${this.procs.length}.log`);
    const proc = new NsProcess(ns, argv, opts, file);
    this.procs.push(proc);
    return proc;
  }

  /**
   * Runs `fn` at the start of cleanup(), last registered first: for things that must stop
   * before their processes are killed (e.g. a supervisor that would restart its daemon).
   */
  onCleanup(fn: () => Promise<void>): void {
    this.assertOpen();
    this.hooks.push(fn);
  }

  /** Every process spawned so far (including exited ones). */
  processes(): readonly NsProcess[] {
    return this.procs;
  }

  async cleanup(): Promise<CleanupReport> {
    const report: CleanupReport = { netns: [], pids: [], sockets: [], pins: [] };
    if (this.closed) return report;
    this.closed = true;
    this.unregister();
    for (const fn of this.hooks.reverse()) await fn().catch(() => {});
    await Promise.all(
      this.procs
        .filter((p) => p.running)
        .map(async (p) => {
          report.pids.push(p.pid);
          await p.kill('SIGTERM', 1000);
        }),
    );
    for (const ns of this.netnsList) {
      report.pids.push(...(await removeNetns(ns)));
      report.netns.push(ns);
    }
    report.sockets = removeWgSockets(this.names.tag, this.names.kind);
    // After the namespaces: their tc filters held the programs; the pins hold the maps until now.
    report.pins = removePins(this.names.prefix);
    if (!this.keepLogs()) rmSync(this.dir, { recursive: true, force: true });
    return report;
  }

  private keepLogs(): boolean {
    return this.opts.keepLogs ?? process.env.WEFT_FIELD_KEEP_LOGS === '1';
  }

  /** The exit-handler path: synchronous, best effort. */
  private cleanupSync(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.procs) if (p.running) killQuietly(p.pid);
    for (const ns of this.netnsList) removeNetnsSync(ns);
    removeWgSockets(this.names.tag, this.names.kind);
    removePins(this.names.prefix);
    if (!this.keepLogs()) rmSync(this.dir, { recursive: true, force: true });
  }
}
