// Messages between the router's event loop and its DNS workers (dns-workers.ts, dns-worker.ts): one
// thread, or several processes. Each worker keeps its own copy of the sites view, fed by 'change'
// and 'removed' messages in the order the SitesView emitted them, the same feed to every worker;
// it reports query counts for the router's metrics.
import type { RoutableSite } from './sites-view.ts';
import type { RouterConfig } from './config.ts';
import type { DnsServerAddress } from './dns-server.ts';

export interface DnsWorkerData {
  config: RouterConfig;
  sites: RoutableSite[];
}

export type ToWorker = { type: 'change'; site: RoutableSite } | { type: 'removed'; id: string } | { type: 'close' };

/**
 * What a worker process is sent first (a thread gets the data as workerData and binds its own sockets):
 * the data, then the bound UDP socket and TCP listener it shares with the other workers, as handles.
 */
export type ToWorkerProcess = { type: 'start'; data: DnsWorkerData } | { type: 'socket'; kind: 'udp' | 'tcp' };

/** Queries answered since the last report: by transport, then rcode. */
export interface QueryCounts {
  udp: Record<number, number>;
  tcp: Record<number, number>;
  misses: number;
  truncated: number;
}

export type FromWorker =
  /** nice: the thread's raised priority, null when the OS did not allow it. */
  | { type: 'listening'; address: DnsServerAddress; nice: number | null }
  | { type: 'failed'; message: string; code?: string }
  | { type: 'counts'; counts: QueryCounts }
  | { type: 'warn'; message: string }
  | { type: 'closed' };
