// A site's timeline, newest first: what the audit log says about it (created, enrolled, drained,
// revoked), every ack (applied, or rejected with its code), and its health changes. Health changes
// are not stored: each hub replica keeps the last few per site since it started (HealthHistory),
// which is what ops look at in the morning; the audit log and acks survive restarts.
import type { EventEmitter } from 'node:events';
import type { SiteHealthEvent } from '../../router/index.ts';
import type { AckRecord, AuditEntry } from '../store/types.ts';

export interface TimelineEntry {
  at: string;
  kind: 'audit' | 'ack' | 'rejection' | 'health';
  summary: string;
}

/** The last `keep` health changes of each site, from the health model's 'event's. */
export class HealthHistory {
  private readonly bySite = new Map<string, SiteHealthEvent[]>();
  private readonly onEvent = (e: SiteHealthEvent) => {
    const list = this.bySite.get(e.siteId) ?? [];
    list.push(e);
    if (list.length > this.keep) list.shift();
    this.bySite.set(e.siteId, list);
  };

  constructor(
    private readonly model: EventEmitter,
    private readonly keep = 50,
  ) {
    model.on('event', this.onEvent);
  }

  of(siteId: string): readonly SiteHealthEvent[] {
    return this.bySite.get(siteId) ?? [];
  }

  close(): void {
    this.model.off('event', this.onEvent);
  }
}

export function timeline(audit: readonly AuditEntry[], acks: readonly AckRecord[], health: readonly SiteHealthEvent[]): TimelineEntry[] {
  const iso = (ms: number) => new Date(ms).toISOString();
  const entries: TimelineEntry[] = [
    ...audit.map((a) => ({ at: iso(a.at), kind: 'audit' as const, summary: `${a.action} by ${a.actor}` })),
    ...acks.map((a) =>
      a.result === 'applied'
        ? { at: iso(a.receivedAt), kind: 'ack' as const, summary: `applied generation ${a.generation}` }
        : { at: iso(a.receivedAt), kind: 'rejection' as const, summary: `rejected generation ${a.generation}: ${a.code ?? ''} ${a.reason ?? ''}`.trim() },
    ),
    ...health.map((e) => ({ at: iso(e.at), kind: 'health' as const, summary: `${e.from} → ${e.to}${e.reason ? `: ${e.reason}` : ''}` })),
  ];
  return entries.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
}
