// Messages between the hub's event loop and the DNS worker thread (dns-thread.ts, dns-worker.ts).
// The worker keeps its own copy of the sites view, fed by 'change' and 'removed' messages in the
// order the hub's SitesView emitted them; it reports query counts for the hub's metrics.
import type { RoutableSite } from './sites-view.ts';
import type { RouterConfig } from './config.ts';
import type { DnsServerAddress } from './dns-server.ts';

export interface DnsWorkerData {
  config: RouterConfig;
  sites: RoutableSite[];
}

export type ToWorker = { type: 'change'; site: RoutableSite } | { type: 'removed'; id: string } | { type: 'close' };

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
