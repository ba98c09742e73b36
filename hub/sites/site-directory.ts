// Sites as ops created them: the list other parts of the hub build on (health joins it with live state
// to make the router's SitesView). Emits 'changed' (SiteRecord) on create/drain/undrain/enroll and
// 'removed' (siteId) on revocation.
import { EventEmitter } from 'node:events';
import type { SiteRecord } from '../store/types.ts';

export interface SiteDirectory extends EventEmitter {
  /** Every site that is not revoked (pending sites included: they may be routed to once online). */
  list(): Promise<SiteRecord[]>;
  get(id: string): Promise<SiteRecord | undefined>;
}
