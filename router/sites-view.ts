// The hub's live view of sites for the router: what each site offers, where it is, and its health.
// Health changes arrive as events and are applied at once; the router never polls.
import type { EventEmitter } from 'node:events';

export type SiteHealth = 'online' | 'degraded' | 'draining' | 'offline';

export interface SiteService {
  /** e.g. 'pos' -> pos.<zone> */
  name: string;
  /** A and AAAA answers for this site. */
  addresses: string[];
  /** Base URL for HTTP redirects, e.g. https://store-042.example.com */
  url?: string;
  /**
   * A multi-node site: each node's addresses for this service, by node name. Given, the site answers
   * only with the nodes that are up and serve the service (a ready pod of it on the node, as the node's
   * heartbeat says), and offers the service only while one does.
   */
  nodeAddresses?: Record<string, string[]>;
}

export interface RoutableSite {
  id: string;
  name: string;
  labels: Record<string, string>;
  lat: number;
  lon: number;
  /** Client networks this site serves directly (its own Wi-Fi): located here first. */
  clientCidrs: string[];
  capacity: number;
  /** Reported load, same unit as capacity. */
  load: number;
  health: SiteHealth;
  services: SiteService[];
}

export interface SiteHealthEvent {
  siteId: string;
  from: SiteHealth;
  to: SiteHealth;
  at: number;
  reason: string;
}

/**
 * Emits 'change' (site: RoutableSite) whenever a site's health, load, services or location changes,
 * and 'removed' (siteId) on revocation.
 */
export interface SitesView extends EventEmitter {
  list(): RoutableSite[];
  get(id: string): RoutableSite | undefined;
}
