// Rule values (verdict, deciding rule, audit rule) from side outcomes, interned: equal verdicts are
// one object, shared by every entry that carries them, so the compiler compares values by identity.
import { refKey } from '../attributions.ts';
import type { RuleRef } from '../model.ts';
import type { SideOutcome } from '../side.ts';
import { VERDICT_ALLOW, VERDICT_DENY, type RuleValue } from '../tables.ts';

/** Attribution ids stay below 2^24 (far above any map limit), so a value packs into one safe integer. */
const RULE_ID_SPAN = 2 ** 24;

export class RuleValues {
  /** RuleRefs are frozen, one per rule (side.ts), so their ids are looked up once each. */
  private readonly refIds = new Map<RuleRef, number>();
  private readonly values = new Map<number, RuleValue>();

  /** `attributionIds`: attribution id by refKey, from buildAttributions. */
  constructor(private readonly attributionIds: ReadonlyMap<string, number>) {}

  of(o: SideOutcome): RuleValue {
    const verdict = o.allowed ? VERDICT_ALLOW : VERDICT_DENY;
    const ruleId = this.idOf(o.by);
    const auditRuleId = this.idOf(o.audit);
    const key = verdict + 4 * (ruleId + RULE_ID_SPAN * auditRuleId);
    let v = this.values.get(key);
    if (!v) this.values.set(key, (v = { verdict, ruleId, auditRuleId }));
    return v;
  }

  private idOf(r: RuleRef | null): number {
    if (!r) return 0;
    let id = this.refIds.get(r);
    if (id === undefined) this.refIds.set(r, (id = this.attributionIds.get(refKey(r)) as number));
    return id;
  }
}
