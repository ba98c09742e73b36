// Verdicts for addresses learned from DNS answers (domainNames peers). Which addresses those are is
// only known in the kernel, at run time, so the compiler writes what such an address would get: for
// each pattern the set's Accept rules name and each identity a learned address can have (the world
// or a CIDR class: what the kernel's ipcache gives it), the port function of that identity with the
// pattern's rules holding it too, under an FQDN peer (tables.ts fqdnPeer). Evaluated by side.ts like
// every other peer, so tiers, priorities and Pass apply as they do to addresses. The kernel takes
// only the allows of these entries: matching an Accept rule can only turn a deny into an allow, and
// an address learned for several patterns is allowed when any one of them allows it (the first
// matching rule of the union is the first of one of them).
import { normalizePattern, rulePatterns } from '../fqdn.ts';
import type { PeerIdentity } from '../identities.ts';
import type { Rule } from '../model.ts';
import { restrictSide } from '../side.ts';
import { CapacityError } from '../capacity.ts';
import { FQDN_MAX_IDENTITY, FQDN_MAX_PATTERNS, fqdnPeer, type RuleEntry, type RuleValue } from '../tables.ts';
import { emitPeer, portEntries } from './lpm-entries.ts';
import { portCuts } from './port-cuts.ts';
import { portFunction } from './port-function.ts';
import type { SetContext, SetSide } from './rule-set.ts';

/** Patterns by index, in the order compile meets them. */
export class FqdnPatterns {
  readonly list: string[] = [];
  private readonly index = new Map<string, number>();

  indexOf(pattern: string): number {
    const p = normalizePattern(pattern);
    let i = this.index.get(p);
    if (i === undefined) {
      if (this.list.length >= FQDN_MAX_PATTERNS) throw new CapacityError('fqdnPatterns', this.list.length + 1, FQDN_MAX_PATTERNS);
      this.index.set(p, (i = this.list.length));
      this.list.push(p);
    }
    return i;
  }
}

/** A value the kernel never sees as a default, so emitPeer always writes the peer-wide entry. */
const NO_DEFAULT: RuleValue = { verdict: 2, ruleId: 0, auditRuleId: 0 };

/** The FQDN peer entries of one egress set (none when its rules name no domain). */
export function fqdnEntries(side: SetSide, set: number, ctx: SetContext, holding: (i: PeerIdentity) => Set<Rule>): RuleEntry[] {
  const byPattern = new Map<number, Rule[]>();
  for (const rule of side.all)
    for (const p of rulePatterns(rule)) {
      const i = ctx.fqdn.indexOf(p);
      const list = byPattern.get(i);
      if (list) list.push(rule);
      else byPattern.set(i, [rule]);
    }
  const out: RuleEntry[] = [];
  if (byPattern.size === 0) return out;
  const external = ctx.ids.list.filter((i) => i.view.kind === 'ip' && i.id <= FQDN_MAX_IDENTITY);
  for (const index of [...byPattern.keys()].sort((a, b) => a - b)) {
    const names = new Set([ctx.fqdn.list[index]]);
    for (const i of external) {
      if (i.view.kind !== 'ip') continue;
      const rules = new Set([...holding(i), ...(byPattern.get(index) as Rule[])]);
      const peerOk = (rule: Rule) => rules.has(rule);
      const f = portFunction(
        {
          rules: restrictSide(side.rules, side.dir, peerOk),
          dir: side.dir,
          self: side.self,
          peer: { kind: 'ip', ip: i.view.ip, names },
          peerOk,
          cuts: portCuts([...rules]),
        },
        ctx.values,
      );
      emitPeer(out, set, fqdnPeer(index, i.id), f.other, portEntries(f), NO_DEFAULT);
    }
  }
  return out;
}
