// Starts the DNS server off the router's event loop and keeps it fed: one worker thread (the default,
// dns.workers: 1), or N processes sharing the port (dns.workers: N, or 0 for one per core) so DNS
// uses every core of the machine. Node 20's dgram has no SO_REUSEPORT, so this process binds the UDP
// socket and the TCP listener once and hands both to every worker process (child_process handle
// passing): they read the same sockets, and whichever is free takes the next query. Every SitesView
// event is forwarded to every worker in the order it was emitted: each holds the same view, so the
// same question gets the same answer whichever worker reads it. Query counts come back every half
// second for the router's metrics.
import { type ChildProcess, fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { RouterConfig } from './config.ts';
import { bindDnsSockets, type DnsServerAddress } from './dns-server.ts';
import type { DnsWorkerData, FromWorker, QueryCounts, ToWorker, ToWorkerProcess } from './dns-thread-protocol.ts';
import type { RoutableSite, SitesView } from './sites-view.ts';

const ENTRY = new URL('./dns-worker.mjs', import.meta.url);

/** One worker, thread or process, as the feed sees it. */
interface WorkerHandle {
  send(m: ToWorker): void;
  onMessage(f: (m: FromWorker) => void): void;
  onExit(f: (code: number | null) => void): void;
  onError(f: (err: Error) => void): void;
  kill(): void;
  /** Resolves when it has exited, also when that happened before anyone asked. */
  readonly exited: Promise<void>;
}

function threadWorker(data: DnsWorkerData): WorkerHandle {
  const w = new Worker(ENTRY, { workerData: data });
  return {
    send: (m) => w.postMessage(m),
    onMessage: (f) => w.on('message', f),
    onExit: (f) => w.on('exit', f),
    onError: (f) => w.on('error', f),
    kill: () => void w.terminate(),
    exited: new Promise((resolve) => w.once('exit', () => resolve())),
  };
}

function processWorker(child: ChildProcess): WorkerHandle {
  return {
    send: (m) => {
      // A worker that died is reported by its exit; a send into its closed channel must not throw here.
      if (child.connected) child.send(m);
    },
    onMessage: (f) => child.on('message', f),
    onExit: (f) => child.on('exit', f),
    onError: (f) => child.on('error', f),
    kill: () => child.kill(),
    exited: new Promise((resolve) => child.once('exit', () => resolve())),
  };
}

/** Resolves with the worker's address once it serves, rejects when it fails or exits first. */
function listening(w: WorkerHandle, log: Logger): Promise<DnsServerAddress> {
  return new Promise<DnsServerAddress>((resolve, reject) => {
    w.onError(reject);
    w.onExit((code) => reject(new Error(`DNS worker exited with code ${code} before listening`)));
    w.onMessage((m) => {
      if (m.type === 'listening') {
        if (m.nice === null) log.warn('router: cannot raise the DNS workers priority (needs root or CAP_SYS_NICE); a busy hub may slow DNS answers');
        resolve(m.address);
      }
      if (m.type === 'failed') reject(Object.assign(new Error(m.message), { code: m.code }));
    });
  });
}

/** N processes on the same two sockets, bound here once. */
async function startProcesses(n: number, data: DnsWorkerData, log: Logger): Promise<{ workers: WorkerHandle[]; address: DnsServerAddress }> {
  const sockets = await bindDnsSockets(data.config.host, data.config.port);
  const children: ChildProcess[] = [];
  try {
    const workers: WorkerHandle[] = [];
    for (let i = 0; i < n; i++) {
      // execArgv: []: the entry registers its own TypeScript loader; the parent's flags (a test
      // runner's, an inspector's) are not the worker's.
      const child = fork(ENTRY, [], { execArgv: [], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      children.push(child);
      const send = (m: ToWorkerProcess, handle?: typeof sockets.udp | typeof sockets.tcp) => child.send(m, handle as never);
      send({ type: 'start', data });
      send({ type: 'socket', kind: 'udp' }, sockets.udp);
      send({ type: 'socket', kind: 'tcp' }, sockets.tcp);
      workers.push(processWorker(child));
    }
    await Promise.all(workers.map((w) => listening(w, log)));
    return { workers, address: sockets.address };
  } catch (err) {
    for (const c of children) c.kill();
    throw err;
  } finally {
    // The workers hold their own copies; this process must not read from the sockets itself.
    sockets.udp.close();
    sockets.tcp.close();
  }
}

export class DnsWorkers {
  private readonly onChange = (site: RoutableSite) => this.send({ type: 'change', site });
  private readonly onRemoved = (id: string) => this.send({ type: 'removed', id });
  closing: Promise<void> | null = null;

  private constructor(
    private readonly workers: WorkerHandle[],
    private readonly sites: SitesView,
    readonly address: DnsServerAddress,
  ) {
    sites.on('change', this.onChange);
    sites.on('removed', this.onRemoved);
  }

  /** How many workers a config asks for: dns.workers, with 0 meaning one per core. */
  static count(config: RouterConfig): number {
    return config.workers === 0 ? availableParallelism() : config.workers;
  }

  static async start(config: RouterConfig, sites: SitesView, log: Logger, onCounts: (c: QueryCounts) => void): Promise<DnsWorkers> {
    const data: DnsWorkerData = { config, sites: sites.list() };
    // Events between the snapshot and 'listening' are queued here and sent once the workers are up.
    const early: ToWorker[] = [];
    const queue = (site: RoutableSite) => early.push({ type: 'change', site });
    const queueRemoved = (id: string) => early.push({ type: 'removed', id });
    sites.on('change', queue);
    sites.on('removed', queueRemoved);
    const n = DnsWorkers.count(config);
    let workers: WorkerHandle[] = [];
    let t: DnsWorkers;
    try {
      let address: DnsServerAddress;
      if (n === 1) {
        workers = [threadWorker(data)];
        address = await listening(workers[0], log);
      } else {
        ({ workers, address } = await startProcesses(n, data, log));
      }
      t = new DnsWorkers(workers, sites, address);
      for (const w of workers) {
        w.onMessage((m) => {
          if (m.type === 'counts') onCounts(m.counts);
          else if (m.type === 'warn') log.warn({ worker: 'dns' }, m.message.trim());
        });
        w.onError((err) => log.error({ err: err.message }, 'router: DNS worker failed'));
      }
      // A worker process that dies leaves the others serving the same port; say so loudly.
      if (n > 1)
        for (const w of workers) w.onExit((code) => t.closing === null && log.error({ code }, 'router: a DNS worker process exited; the others keep serving'));
      for (const m of early) for (const w of workers) w.send(m);
      return t;
    } catch (err) {
      for (const w of workers) w.kill();
      throw err;
    } finally {
      sites.off('change', queue);
      sites.off('removed', queueRemoved);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  private send(m: ToWorker): void {
    for (const w of this.workers) w.send(m);
  }

  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.sites.off('change', this.onChange);
    this.sites.off('removed', this.onRemoved);
    this.closing = Promise.all(
      this.workers.map((w) => {
        w.onMessage((m) => {
          if (m.type === 'closed') w.kill();
        });
        w.send({ type: 'close' });
        return w.exited;
      }),
    ).then(() => undefined);
    return this.closing;
  }
}
