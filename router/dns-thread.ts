// Starts the DNS server on a worker thread (dns-worker.ts) and keeps it fed: every SitesView event
// is forwarded in order, so the worker's answers follow health changes within one message hop
// (microseconds; the hub's own event loop is the only thing that could delay it, and it no longer
// delays the answers). Query counts come back every half second for the hub's metrics.
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { RoutableSite, SitesView } from './sites-view.ts';
import type { RouterConfig } from './config.ts';
import type { DnsServerAddress } from './dns-server.ts';
import type { DnsWorkerData, FromWorker, QueryCounts, ToWorker } from './dns-thread-protocol.ts';

export class DnsThread {
  private readonly onChange = (site: RoutableSite) => this.send({ type: 'change', site });
  private readonly onRemoved = (id: string) => this.send({ type: 'removed', id });
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly worker: Worker,
    private readonly sites: SitesView,
    readonly address: DnsServerAddress,
  ) {
    sites.on('change', this.onChange);
    sites.on('removed', this.onRemoved);
  }

  static async start(config: RouterConfig, sites: SitesView, log: Logger, onCounts: (c: QueryCounts) => void): Promise<DnsThread> {
    const data: DnsWorkerData = { config, sites: sites.list() };
    const worker = new Worker(new URL('./dns-worker.mjs', import.meta.url), { workerData: data });
    // Events between the snapshot and 'listening' are queued here and sent once the thread is up.
    const early: ToWorker[] = [];
    const queue = (site: RoutableSite) => early.push({ type: 'change', site });
    const queueRemoved = (id: string) => early.push({ type: 'removed', id });
    sites.on('change', queue);
    sites.on('removed', queueRemoved);
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'counts') onCounts(m.counts);
      else if (m.type === 'warn') log.warn({ worker: 'dns' }, m.message.trim());
    });
    try {
      const address = await new Promise<DnsServerAddress>((resolve, reject) => {
        worker.on('error', reject);
        worker.on('exit', (code) => reject(new Error(`DNS worker exited with code ${code} before listening`)));
        worker.on('message', (m: FromWorker) => {
          if (m.type === 'listening') {
            if (m.nice === null) log.warn('router: cannot raise the DNS thread priority (needs root or CAP_SYS_NICE); a busy hub may slow DNS answers');
            resolve(m.address);
          }
          if (m.type === 'failed') reject(Object.assign(new Error(m.message), { code: m.code }));
        });
      });
      const t = new DnsThread(worker, sites, address);
      for (const m of early) t.send(m);
      worker.on('error', (err) => log.error({ err: err.message }, 'router: DNS worker failed'));
      return t;
    } catch (err) {
      await worker.terminate();
      throw err;
    } finally {
      sites.off('change', queue);
      sites.off('removed', queueRemoved);
    }
  }

  private send(m: ToWorker): void {
    this.worker.postMessage(m);
  }

  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.sites.off('change', this.onChange);
    this.sites.off('removed', this.onRemoved);
    this.closing = new Promise<void>((resolve) => {
      this.worker.once('exit', () => resolve());
      this.worker.on('message', (m: FromWorker) => {
        if (m.type === 'closed') void this.worker.terminate();
      });
      this.send({ type: 'close' });
    });
    return this.closing;
  }
}
