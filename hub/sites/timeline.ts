// A site's timeline, newest first: what the audit log says about it (created, enrolled, drained,
// revoked), every ack (applied, or rejected with its code), and its health changes, all from the store
// (health changes are written there by HealthRecorder), so every hub replica shows the same timeline.
import type { AckRecord, AuditEntry, HealthEventRecord } from '../store/types.ts';

export interface TimelineEntry {
  at: string;
  kind: 'audit' | 'ack' | 'rejection' | 'health';
  summary: string;
}

export function timeline(audit: readonly AuditEntry[], acks: readonly AckRecord[], health: readonly HealthEventRecord[]): TimelineEntry[] {
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
