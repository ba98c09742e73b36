// The DNS server on its own thread: its own event loop, so no API request, broker load or garbage
// collection of the hub's heap can stall name resolution for end users. It holds a copy of the sites
// view (fed by messages from dns-thread.ts), its own Routing, resolver, caches and the geo database.
import { EventEmitter } from 'node:events';
import { readlinkSync } from 'node:fs';
import { constants, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import type { RoutableSite, SitesView } from './sites-view.ts';
import { DnsResolver, type Transport } from './dns-resolver.ts';
import { DnsServer } from './dns-server.ts';
import type { DnsWorkerData, FromWorker, QueryCounts, ToWorker } from './dns-thread-protocol.ts';
import { openGeoDb } from './geo-db.ts';
import { errorCode, errorMessage } from '../base/index.ts';
import { Routing } from './routing.ts';

const REPORT_MS = 500;

/**
 * A thread of its own is not enough on a busy machine: the hub's loop under attack (TLS handshakes,
 * bodies being refused) competes with this thread for the CPU. On Linux a thread is a task with its
 * own nice value: run this one ahead of the rest where the OS allows it (root or CAP_SYS_NICE).
 * Returns the nice value set, or null when not permitted.
 */
function raisePriority(): number | null {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    setPriority(tid, constants.priority.PRIORITY_HIGH);
    return constants.priority.PRIORITY_HIGH;
  } catch {
    return null;
  }
}

/** The hub's SitesView as last reported: emits the same events, in the same order. */
class MirroredSitesView extends EventEmitter implements SitesView {
  private readonly sites = new Map<string, RoutableSite>();

  constructor(initial: RoutableSite[]) {
    super();
    for (const s of initial) this.sites.set(s.id, s);
  }

  list(): RoutableSite[] {
    return [...this.sites.values()];
  }

  get(id: string): RoutableSite | undefined {
    return this.sites.get(id);
  }

  apply(m: ToWorker): void {
    if (m.type === 'change') {
      this.sites.set(m.site.id, m.site);
      this.emit('change', m.site);
    } else if (m.type === 'removed' && this.sites.delete(m.id)) this.emit('removed', m.id);
  }
}

const port = parentPort;
if (!port) throw new Error('dns-worker.ts runs as a worker thread (started by dns-thread.ts)');
const post = (m: FromWorker) => port.postMessage(m);
const { config, sites } = workerData as DnsWorkerData;

const fresh = (): QueryCounts => ({ udp: {}, tcp: {}, misses: 0, truncated: 0 });
let counts = fresh();
let any = false;
const report = () => {
  if (!any) return;
  post({ type: 'counts', counts });
  counts = fresh();
  any = false;
};

try {
  const view = new MirroredSitesView(sites);
  const geoDb = config.geoDbPath ? await openGeoDb(config.geoDbPath) : undefined;
  const routing = new Routing(config, view, geoDb);
  const resolver = new DnsResolver(routing);
  const onQuery = (transport: Transport) => {
    const { rcode, cached, truncated } = resolver.last;
    const byRcode = counts[transport];
    byRcode[rcode] = (byRcode[rcode] ?? 0) + 1;
    if (!cached) counts.misses++;
    if (truncated) counts.truncated++;
    any = true;
  };
  // Warnings go to the hub's logger: this thread has no logger of its own.
  const log = pino({ level: 'warn' }, { write: (line: string) => post({ type: 'warn', message: line }) });
  const server = await DnsServer.start(resolver, config.host, config.port, config.limits, log, onQuery);
  const timer = setInterval(report, REPORT_MS);
  port.on('message', (m: ToWorker) => {
    if (m.type !== 'close') return view.apply(m);
    clearInterval(timer);
    void server.close().then(() => {
      report();
      resolver.close();
      routing.close();
      post({ type: 'closed' });
      port.close();
    });
  });
  post({ type: 'listening', address: server.address, nice: raisePriority() });
} catch (err) {
  post({ type: 'failed', message: errorMessage(err), code: errorCode(err) });
  port.close();
}
