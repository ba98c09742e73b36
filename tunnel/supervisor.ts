// Keeps one child process running: starts it, restarts it with exponential backoff when it
// dies, and stops it cleanly (SIGTERM, then SIGKILL after a grace period). Used for wireguard-go.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** A run at least this long resets the backoff to initialMs. */
  resetAfterMs: number;
}

export interface SupervisorOptions {
  name: string;
  argv: string[];
  env?: NodeJS.ProcessEnv;
  backoff?: Partial<BackoffOptions>;
  stopGraceMs?: number;
  logger: Logger;
  /** Runs after every (re)start; if it throws, the child is killed and restarted. */
  onStart?: (pid: number) => Promise<void>;
}

export interface SupervisorEvents {
  started: [pid: number];
  ready: [pid: number];
  exited: [code: number | null, signal: NodeJS.Signals | null];
}

const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 5000, factor: 2, resetAfterMs: 10_000 };

/** The delay before restart number `attempt` (0-based). Exported for its test. */
export function backoffDelay(attempt: number, b: BackoffOptions): number {
  return Math.min(b.maxMs, b.initialMs * b.factor ** attempt);
}

export class Supervisor extends EventEmitter<SupervisorEvents> {
  private child: ChildProcess | undefined;
  private stopping = false;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Why the last start hook failed: the real cause when start() fails. */
  private hookError: Error | undefined;
  private readonly backoff: BackoffOptions;
  /** How many times the child was restarted after dying. */
  restarts = 0;

  constructor(private readonly opts: SupervisorOptions) {
    super();
    this.backoff = { ...DEFAULT_BACKOFF, ...opts.backoff };
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the child and resolves once it has started and onStart succeeded. */
  start(): Promise<void> {
    this.stopping = false;
    this.hookError = undefined;
    return new Promise((resolve, reject) => {
      const onReady = () => {
        this.off('exited', onExit);
        resolve();
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        // A child that cannot even start once is not retried: the caller sees the error.
        this.stopping = true;
        this.off('ready', onReady);
        reject(this.hookError ?? new Error(`${this.opts.name} exited during start (code ${code}, signal ${signal})`));
      };
      this.once('ready', onReady);
      this.once('exited', onExit);
      this.spawnChild();
    });
  }

  private spawnChild(): void {
    const [cmd, ...args] = this.opts.argv;
    const child = spawn(cmd, args, { env: this.opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const startedAt = Date.now();
    const log = (stream: string) => (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) this.opts.logger.debug({ proc: this.opts.name, stream }, line);
    };
    child.stdout?.on('data', log('stdout'));
    child.stderr?.on('data', log('stderr'));
    child.on('error', (err) => this.opts.logger.error({ proc: this.opts.name, err: err.message }, 'cannot spawn'));
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      this.emit('exited', code, signal);
      if (this.stopping) return;
      if (Date.now() - startedAt >= this.backoff.resetAfterMs) this.attempt = 0;
      const delay = backoffDelay(this.attempt++, this.backoff);
      this.opts.logger.warn({ proc: this.opts.name, code, signal, restartInMs: delay }, 'process died; restarting');
      this.timer = setTimeout(() => {
        this.timer = undefined;
        if (this.stopping) return;
        this.restarts++;
        this.spawnChild();
      }, delay);
    });
    child.on('spawn', () => {
      const pid = child.pid as number;
      this.opts.logger.info({ proc: this.opts.name, pid }, 'started');
      this.emit('started', pid);
      (this.opts.onStart ? this.opts.onStart(pid) : Promise.resolve()).then(
        () => {
          if (this.child === child) this.emit('ready', pid);
        },
        (err: Error) => {
          this.hookError = err;
          this.opts.logger.error({ proc: this.opts.name, err: err.message }, 'start hook failed; killing');
          child.kill('SIGKILL');
        },
      );
    });
  }

  /** Stops the child for good: SIGTERM, then SIGKILL after the grace period. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const grace = setTimeout(() => child.kill('SIGKILL'), this.opts.stopGraceMs ?? 3000);
    await exited;
    clearTimeout(grace);
  }
}
