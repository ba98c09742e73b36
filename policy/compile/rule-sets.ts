// Which rule set each endpoint's side uses, each set built once. Pods of one identity have the
// same applicable policies and ports, hence the same sets; identities met by the same policies
// share a set through its key. Set ids are dense in creation order: a set that would be the
// default allow takes no id (SET_NONE), so endpoints walked in order give canonical tables.
import type { PeerIdentity } from '../identities.ts';
import type { Context } from '../context.ts';
import type { Direction } from '../model.ts';
import { isEmpty, policiesMet, type PodView } from '../side.ts';
import { SET_NONE, type RuleEntry, type SetEntry } from '../tables.ts';
import { namedPorts } from './port-cuts.ts';
import { buildRuleSet, type SetContext } from './rule-set.ts';
import { SetKeys, type SetKey } from './set-key.ts';

export class RuleSets {
  readonly sets: SetEntry[] = [];
  readonly rules: RuleEntry[] = [];
  private readonly byIdentity = new Map<PeerIdentity, Partial<Record<Direction, number>>>();
  private readonly byKey = new Map<SetKey, number>();
  private readonly keys = new SetKeys();

  constructor(
    private readonly policies: Context,
    private readonly ctx: SetContext,
  ) {}

  /** The set id of a pod's side (SET_NONE: nothing to look up, allow). */
  setOf(v: PodView, dir: Direction): number {
    const identity = this.ctx.ids.byPod.get(v) as PeerIdentity;
    let memo = this.byIdentity.get(identity);
    if (!memo) this.byIdentity.set(identity, (memo = {}));
    return (memo[dir] ??= this.setOfSide(v, dir));
  }

  private setOfSide(self: PodView, dir: Direction): number {
    const rules = this.policies.rules(self, dir);
    if (isEmpty(rules)) return SET_NONE;
    const met = policiesMet(rules);
    const all = met.flatMap((p) => p[dir]);
    // Ingress named ports resolve against this pod's own ports: they are part of the key.
    const ports = dir === 'ingress' && namedPorts(all).length > 0 ? this.ctx.portSignatures.of(self.pod.ports) : null;
    const key = this.keys.of(dir, met, ports);
    const known = this.byKey.get(key);
    if (known !== undefined) return known;
    const id = this.sets.length + 1;
    const set = buildRuleSet({ self, dir, rules, all }, id, this.ctx);
    this.byKey.set(key, set ? id : SET_NONE);
    if (!set) return SET_NONE;
    this.sets.push({ id, direction: dir, default: set.default });
    for (const e of set.rules) this.rules.push(e);
    return id;
  }
}
