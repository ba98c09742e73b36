// A long-running process inside a namespace, with its output captured (in memory and in a log
// file kept for the post-mortem) and a kill that crash tests can make a SIGKILL.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { HarnessError } from './errors.ts';
import { netnsArgv } from '../../base/index.ts';

export interface SpawnOptions {
  /** Shown in logs and used for the log file name. */
  name: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Keep stdin open for write() (default: stdin is /dev/null). */
  stdin?: boolean;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const MAX_BUFFER = 1024 * 1024;

export class NsProcess {
  readonly pid: number;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<Exit>;
  private output = '';
  private readonly child: ChildProcess;
  private readonly log: WriteStream;
  private exit: Exit | undefined;
  private readonly waiters = new Set<() => void>();
  private readonly lineListeners = new Set<(line: string) => void>();
  private partial = '';

  constructor(
    readonly ns: string | undefined,
    readonly argv: string[],
    readonly opts: SpawnOptions,
    readonly logFile: string,
  ) {
    const full = netnsArgv(argv, ns);
    this.log = createWriteStream(logFile, { flags: 'a', mode: 0o600 });
    this.child = spawn(full[0], full.slice(1), { env: opts.env ?? process.env, cwd: opts.cwd, stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    if (this.child.pid === undefined) throw new HarnessError('HARNESS_COMMAND_FAILED', `cannot spawn ${full.join(' ')}`);
    this.pid = this.child.pid;
    const take = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      this.log.write(text);
      this.output = (this.output + text).slice(-MAX_BUFFER);
      for (const w of this.waiters) w();
    };
    this.child.stdout?.on('data', (chunk: Buffer) => {
      take(chunk);
      const lines = (this.partial + chunk.toString('utf8')).split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) for (const l of this.lineListeners) l(line);
    });
    this.child.stderr?.on('data', take);
    this.child.on('close', () => this.log.end());
    this.exited = new Promise((resolve) => {
      // 'exit', not 'close': a grandchild may hold the pipes open long after the process died.
      this.child.on('exit', (code, signal) => {
        this.exit = { code, signal };
        this.log.write(`\n[${opts.name} exited: code ${code} signal ${signal}]\n`);
        for (const w of this.waiters) w();
        resolve(this.exit);
      });
    });
  }

  /** Calls `fn` with every complete line the process writes to stdout from now on. */
  onStdoutLine(fn: (line: string) => void): () => void {
    this.lineListeners.add(fn);
    return () => this.lineListeners.delete(fn);
  }

  /** Writes to the process's stdin (spawned with stdin: true). */
  write(text: string): void {
    if (!this.child.stdin) throw new HarnessError('HARNESS_BAD_OPTIONS', `${this.opts.name} was spawned without stdin`, 'spawn it with { stdin: true }');
    this.child.stdin.write(text);
  }

  /** stdout and stderr interleaved, as far as captured (the last 1 MiB). */
  logs(): string {
    return this.output;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** Resolves with the first match of `re` in the output; rejects on exit or timeout. */
  waitForOutput(re: RegExp, timeoutMs = 10_000): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const check = () => {
        const m = re.exec(this.output);
        if (m || this.exit || timer === undefined) {
          this.waiters.delete(check);
          clearTimeout(timer);
          if (m) resolve(m);
          else
            reject(
              new HarnessError(
                this.exit ? 'HARNESS_COMMAND_FAILED' : 'HARNESS_TIMEOUT',
                `${this.opts.name}: no output matching ${re} (${this.exit ? `exited with code ${this.exit.code}` : `after ${timeoutMs} ms`}); output:\n${this.output.slice(-2000)}`,
              ),
            );
        }
      };
      timer = setTimeout(() => {
        timer = undefined;
        check();
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Sends a signal and waits for the exit; SIGKILL is what crash tests use. */
  async kill(signal: NodeJS.Signals = 'SIGTERM', graceMs = 3000): Promise<Exit> {
    if (!this.exit) {
      this.child.kill(signal);
      if (signal !== 'SIGKILL') {
        const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
        await this.exited;
        clearTimeout(t);
      }
    }
    return this.exited;
  }
}
