// Assigning targeted sites to stages: the canary set first, then cumulative percentages of the
// targeted sites (in site id order, so a plan is reproducible), and a final stage that takes the rest.
import { HubError } from '../errors.ts';
import type { StageSpec } from '../store/types.ts';

export interface Plan {
  stages: StageSpec[];
  assignment: { siteId: string; stage: number }[];
}

export function planStages(targets: string[], requested: StageSpec[]): Plan {
  const sorted = [...targets].sort();
  const stages = [...requested];
  const last = stages[stages.length - 1];
  if (!last || 'sites' in last || last.percent < 100) stages.push({ name: 'all', percent: 100 });
  const assigned = new Map<string, number>();
  stages.forEach((s, i) => {
    if ('sites' in s) {
      for (const id of s.sites) {
        if (!sorted.includes(id)) throw new HubError('ROLLOUT_INVALID', `stage ${s.name}: site ${id} is not targeted by the selector (or not enrolled)`);
        if (!assigned.has(id)) assigned.set(id, i);
      }
      return;
    }
    if (!(s.percent > 0 && s.percent <= 100)) throw new HubError('ROLLOUT_INVALID', `stage ${s.name}: percent must be within 1..100`);
    const want = Math.ceil((s.percent / 100) * sorted.length);
    for (const id of sorted) {
      if (assigned.size >= want) break;
      if (!assigned.has(id)) assigned.set(id, i);
    }
  });
  return { stages, assignment: sorted.map((siteId) => ({ siteId, stage: assigned.get(siteId)! })) };
}
