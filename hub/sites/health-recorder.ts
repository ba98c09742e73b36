// Writes the health model's state changes to the store, so a site's timeline shows the same changes on
// every hub replica and after a restart (issue 20). Every replica runs its own health model from the
// same broker messages and records what it sees; the store keeps one row per change (a duplicate is
// the same change of the same site within one heartbeat interval) and the newest few hundred per site.
// Writes go one at a time, in the order of the events; a store that is down loses changes, not the hub.
import type { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { SiteHealthEvent } from '../../router/index.ts';
import type { HubStore } from '../store/types.ts';

/** Health changes kept per site: weeks of a site flapping a few times a day. */
export const HEALTH_EVENTS_PER_SITE = 200;
/** Changes waiting for the store past this are dropped (a store down while the whole fleet flaps); a hub restart on 10 000 sites queues about one per site. */
const MAX_PENDING = 100_000;

export class HealthRecorder {
  private chain: Promise<void> = Promise.resolve();
  private pending = 0;
  private dropping = false;
  private readonly onEvent = (e: SiteHealthEvent) => this.enqueue(e);

  constructor(
    private readonly model: EventEmitter,
    private readonly store: HubStore,
    private readonly log: Logger,
    /** A change seen again within this long is the same change (another replica's). */
    private readonly dedupeMs: number,
  ) {
    model.on('event', this.onEvent);
  }

  private enqueue(e: SiteHealthEvent): void {
    if (this.pending >= MAX_PENDING) {
      if (!this.dropping) this.log.warn({ pending: this.pending }, 'health changes are not being stored fast enough; dropping the newest from site timelines');
      this.dropping = true;
      return;
    }
    this.pending++;
    this.chain = this.chain.then(async () => {
      try {
        await this.store.tx((t) => t.health.record(e, { dedupeMs: this.dedupeMs, keep: HEALTH_EVENTS_PER_SITE }));
      } catch (err) {
        this.log.warn({ siteId: e.siteId, err: err instanceof Error ? err.message : String(err) }, 'could not store a health change for the site timeline');
      } finally {
        this.pending--;
        if (this.pending === 0) this.dropping = false;
      }
    });
  }

  /** Stops listening and waits for the changes already queued. */
  async close(): Promise<void> {
    this.model.off('event', this.onEvent);
    await this.chain;
  }
}
