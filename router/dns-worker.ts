// The DNS server on its own thread, or in one of several processes sharing the port: its own event
// loop, so no API request, broker load or garbage collection of the hub's heap can stall name
// resolution for end users. It holds a copy of the sites view (fed by messages from dns-workers.ts),
// its own Routing, resolver, caches and the geo database. A thread binds its sockets; a process is
// handed the sockets its parent bound (every process reads the same ones, so they share the load).
import type { Socket as UdpSocket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { readlinkSync } from 'node:fs';
import { constants, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import type { RoutableSite, SitesView } from './sites-view.ts';
import { DnsResolver, type Transport } from './dns-resolver.ts';
import type { Server } from 'node:net';
import { DnsServer, type DnsSockets } from './dns-server.ts';
import type { DnsWorkerData, FromWorker, QueryCounts, ToWorker, ToWorkerProcess } from './dns-thread-protocol.ts';
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

interface Channel {
  post(m: FromWorker): void;
  onMessage(f: (m: ToWorker) => void): void;
  close(): void;
}

const port = parentPort;
const channel: Channel = port
  ? { post: (m) => port.postMessage(m), onMessage: (f) => port.on('message', f), close: () => port.close() }
  : {
      post: (m) => process.send?.(m),
      onMessage: (f) => process.on('message', f),
      close: () => process.disconnect(),
    };
if (!port && !process.send) throw new Error('dns-worker.ts runs as a worker thread or a forked process (started by dns-workers.ts)');
// A process whose parent is gone (killed, crashed) must not keep the port: exit with it.
if (!port) process.on('disconnect', () => process.exit(0));
const post = channel.post;

/** A process waits for its data and its two sockets; a thread has its data and binds its own. */
function processStart(): Promise<{ data: DnsWorkerData; sockets: Omit<DnsSockets, 'address'> }> {
  return new Promise((resolve) => {
    let data: DnsWorkerData | undefined;
    let udp: UdpSocket | undefined;
    let tcp: Server | undefined;
    const onStart = (m: ToWorkerProcess, handle?: UdpSocket | Server) => {
      if (m.type === 'start') data = m.data;
      else if (m.kind === 'udp') udp = handle as UdpSocket;
      else tcp = handle as Server;
      if (data && udp && tcp) {
        process.off('message', onStart);
        resolve({ data, sockets: { udp, tcp } });
      }
    };
    process.on('message', onStart);
  });
}

const start = port ? { data: workerData as DnsWorkerData, sockets: null } : await processStart();
const { config, sites } = start.data;

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
  const server = start.sockets
    ? DnsServer.serve(resolver, { ...start.sockets, address: { host: config.host, port: start.sockets.udp.address().port } }, config.limits, log, onQuery)
    : await DnsServer.start(resolver, config.host, config.port, config.limits, log, onQuery);
  const timer = setInterval(report, REPORT_MS);
  channel.onMessage((m: ToWorker) => {
    if (m.type !== 'close') return view.apply(m);
    clearInterval(timer);
    void server.close().then(() => {
      report();
      resolver.close();
      routing.close();
      post({ type: 'closed' });
      channel.close();
    });
  });
  post({ type: 'listening', address: server.address, nice: raisePriority() });
} catch (err) {
  post({ type: 'failed', message: errorMessage(err), code: errorCode(err) });
  channel.close();
}
