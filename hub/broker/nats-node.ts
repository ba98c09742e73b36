// One supervised nats-server process: started with its config file, ready once its monitor's /healthz
// answers 200 (JetStream current in the cluster), reloaded with SIGHUP (resolved when it logs the
// reload), restarted when it dies. Its log lines go to the hub's logger; permission violations are
// picked out of them, since MQTT 3.1.1 has no way to refuse a publish and the site is never told.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { Logger } from 'pino';
import { BrokerError } from './types.ts';

export interface PermissionViolation {
  node: string;
  kind: 'publish' | 'subscribe';
  user: string;
  subject: string;
}

const VIOLATION = /(Publish|Subscription) Violation - User "([^"]*)", Subject "([^"]*)"/;

/** A nats-server log line's permission violation, if it reports one. */
export function parseViolation(node: string, line: string): PermissionViolation | null {
  const m = VIOLATION.exec(line);
  return m ? { node, kind: m[1] === 'Publish' ? 'publish' : 'subscribe', user: m[2], subject: m[3] } : null;
}

function healthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/healthz', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

export interface NatsNodeOptions {
  name: string;
  binary: string;
  conf: string;
  httpPort: number;
  log: Logger;
  /** After a crash; default 1000 ms. */
  restartDelayMs: number;
  onViolation: (v: PermissionViolation) => void;
  onRestart: () => void;
}

export class NatsNode {
  private child: ChildProcess | null = null;
  private stopping = false;
  private readonly tail: string[] = [];
  private readonly lines = new EventEmitter();

  constructor(private readonly o: NatsNodeOptions) {}

  get name(): string {
    return this.o.name;
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** Spawns the process; ready() waits for it to serve. */
  spawn(): void {
    const child = spawn(this.o.binary, ['-c', this.o.conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    let rest = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts.filter(Boolean)) this.onLine(line);
    });
    child.once('exit', (code, signal) => {
      if (this.stopping || this.child !== child) return;
      this.o.log.error({ node: this.o.name, code, signal }, `nats-server exited; restarting in ${this.o.restartDelayMs} ms`);
      setTimeout(() => {
        if (this.stopping) return;
        this.spawn();
        this.ready(60_000).then(this.o.onRestart, (err: Error) => this.o.log.error({ node: this.o.name, err: err.message }, 'nats-server restart failed'));
      }, this.o.restartDelayMs).unref();
    });
  }

  private onLine(line: string): void {
    this.tail.push(line);
    if (this.tail.length > 20) this.tail.shift();
    this.lines.emit('line', line);
    const v = parseViolation(this.o.name, line);
    if (v) return this.o.onViolation(v);
    const level = /\[(ERR|FTL)\]|^panic:/.test(line) ? 'error' : line.includes('[WRN]') ? 'warn' : 'debug';
    this.o.log[level]({ node: this.o.name, nats: line.replace(/^\[\d+\] \S+ \S+ /, '') }, 'nats-server');
  }

  /** Resolves once /healthz answers 200; throws (and kills the process) after timeoutMs or if it exits. */
  async ready(timeoutMs: number): Promise<void> {
    const child = this.child;
    const until = Date.now() + timeoutMs;
    while (!(await healthy(this.o.httpPort))) {
      if (!child || child.exitCode !== null || child.signalCode !== null || Date.now() > until) {
        child?.kill('SIGKILL');
        throw new BrokerError(
          'BROKER_NATS_START',
          `nats-server ${this.o.name} did not become ready: ${this.tail.slice(-5).join(' | ') || 'no output'}`,
          'a cluster node is ready once JetStream has a leader: start at least a majority of the nodes its routes name, and check their ports are free',
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGHUP; resolves once the server logs that it reloaded (or after 2 s). */
  reload(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.lines.off('line', onLine);
        resolve();
      };
      const onLine = (l: string) => {
        if (l.includes('Reloaded server configuration')) done();
        else if (/\[ERR\].*reload/i.test(l)) done();
      };
      const timer = setTimeout(done, 2000);
      this.lines.on('line', onLine);
      child.kill('SIGHUP');
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
