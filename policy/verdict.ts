// Two sides -> one verdict, in the order a packet meets them: the source pod's egress, then the
// destination pod's ingress. Shared by the evaluator and the table lookup so they cannot differ.
import type { RuleRef } from './model.ts';
import type { SideOutcome } from './side.ts';

export type DecidedBy = RuleRef | 'default-allow' | 'default-deny';

export interface Verdict {
  allowed: boolean;
  /** A deny: the first side that denied. An allow: the ingress rule, else the egress rule, else default-allow. */
  decidedBy: DecidedBy;
  /** What audit-mode policies would have denied, for each side the packet reached. */
  audit: RuleRef[];
}

export function combine(egress: SideOutcome | null, ingress: SideOutcome | null): Verdict {
  const audit: RuleRef[] = [];
  for (const side of [egress, ingress]) {
    if (!side) continue;
    if (!side.allowed) return { allowed: false, decidedBy: side.by ?? 'default-deny', audit };
    if (side.audit) audit.push(side.audit);
  }
  return { allowed: true, decidedBy: ingress?.by ?? egress?.by ?? 'default-allow', audit };
}
