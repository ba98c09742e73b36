// What the rollout progress stream sends: per-stage counts and only the site rows that changed since
// the previous message (the first carries them all). Pure, so a 10 000-site rollout costs the browser
// one full list and then small deltas, and the stream's contents are tested with plain data.
import type { RolloutRecord, RolloutSite } from '../store/types.ts';
import type { RolloutStatus } from './engine.ts';

export interface StageProgress {
  index: number;
  name: string;
  total: number;
  applied: number;
  rejected: number;
  pending: number;
}

export interface ProgressMessage {
  rollout: RolloutRecord;
  stages: StageProgress[];
  /** Rows that changed since the previous message (all of them in the first). */
  sites: RolloutSite[];
}

/** The last row sent per site, as a comparable key. */
export type SentRows = Map<string, string>;

const rowKey = (s: RolloutSite) => `${s.stage}|${s.generation}|${s.result}|${s.code}|${s.ackedAt}|${s.publishedAt}`;

/** The message for `status`, given what this stream sent before; null when nothing changed. Updates `sent`. */
export function progressDelta(status: RolloutStatus, sent: SentRows, prevRollout: RolloutRecord | null): ProgressMessage | null {
  const sites: RolloutSite[] = [];
  for (const st of status.stages) {
    for (const row of st.sites) {
      const k = rowKey(row);
      if (sent.get(row.siteId) === k) continue;
      sent.set(row.siteId, k);
      sites.push(row);
    }
  }
  if (!sites.length && prevRollout && JSON.stringify(prevRollout) === JSON.stringify(status.rollout)) return null;
  return {
    rollout: status.rollout,
    stages: status.stages.map(({ index, name, sites: rows, applied, rejected, pending }) => ({ index, name, total: rows.length, applied, rejected, pending })),
    sites,
  };
}
