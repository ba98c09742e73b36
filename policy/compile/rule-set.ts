// One rule set: a default verdict and the LPM entries, per peer identity, that differ from it.
// The generic peer (the world) gives the default; each peer class is evaluated once, on its first
// identity, with only the rules that hold it; every identity of the class gets the class's entries.
import type { Hits, Identities, PeerIdentity } from '../identities.ts';
import type { Direction, Peer, Rule } from '../model.ts';
import { restrictSide, type PodView, type SideRules } from '../side.ts';
import { VERDICT_ALLOW, type RuleEntry, type RuleValue } from '../tables.ts';
import { emitPeer, portEntries, type PortEntry } from './lpm-entries.ts';
import { peerClasses, type PeerClass } from './peer-classes.ts';
import { namedPorts, portCuts } from './port-cuts.ts';
import { portFunction } from './port-function.ts';
import type { PortSignatures } from './port-signature.ts';
import type { RuleValues } from './rule-values.ts';
import { fqdnEntries, type FqdnPatterns } from './fqdn-peers.ts';

/** What every set of one compile shares. */
export interface SetContext {
  ids: Identities;
  /** domainNames patterns met so far, by index (the FQDN peers' index). */
  fqdn: FqdnPatterns;
  hits: (p: Peer) => Hits;
  values: RuleValues;
  portSignatures: PortSignatures;
}

export interface SetSide {
  /** The pod the set is built on: any pod with this set's key would give the same set. */
  self: PodView;
  dir: Direction;
  rules: SideRules;
  /** Every rule of the side in the order met. */
  all: Rule[];
}

export interface RuleSet {
  default: RuleValue;
  rules: RuleEntry[];
}

interface ClassFunction {
  other: RuleValue;
  entries: PortEntry[];
}

/** The set under id `id`, or null when it is the default allow with no entries (no set needed). */
export function buildRuleSet(side: SetSide, id: number, ctx: SetContext): RuleSet | null {
  const { classOf, rulePeers } = peerClasses({
    rules: side.all,
    peerNamed: side.dir === 'egress' ? namedPorts(side.all) : [],
    ids: ctx.ids,
    hits: ctx.hits,
    portSignatures: ctx.portSignatures,
  });
  const holding = holdingRules(side.all, ctx.hits);
  const functionOf = (i: PeerIdentity): ClassFunction => {
    const rules = holding(rulePeers.filter((h) => h.set.has(i)));
    const peerOk = (rule: Rule) => rules.has(rule);
    const f = portFunction(
      { rules: restrictSide(side.rules, side.dir, peerOk), dir: side.dir, self: side.self, peer: i.view, peerOk, cuts: portCuts([...rules]) },
      ctx.values,
    );
    return { other: f.other, entries: portEntries(f) };
  };
  const generic = functionOf(ctx.ids.list[0]);
  const dflt = generic.other;
  const functions = new Map<PeerClass, ClassFunction>([[0, generic]]);
  // A constant generic function needs no entries: only the identities some rule peer names do.
  const peers = generic.entries.length === 0 ? [...classOf.keys()].sort((a, b) => a.id - b.id) : ctx.ids.list;
  const rules: RuleEntry[] = [];
  for (const peer of peers) {
    const c = classOf.get(peer) ?? 0;
    let f = functions.get(c);
    if (!f) functions.set(c, (f = functionOf(peer)));
    emitPeer(rules, id, peer.id, f.other, f.entries, dflt);
  }
  if (rules.length === 0 && dflt.verdict === VERDICT_ALLOW && dflt.ruleId === 0 && dflt.auditRuleId === 0) return null;
  // Addresses learned from DNS: their FQDN peers' entries follow (their peer ids are the highest).
  if (side.dir === 'egress') for (const e of fqdnEntries(side, id, ctx, (i) => holding(rulePeers.filter((h) => h.set.has(i))))) rules.push(e);
  return { default: dflt, rules };
}

/** The rules that hold a peer, from what the rule peers that match it match: those plus the rules for every peer. */
function holdingRules(all: readonly Rule[], hits: (p: Peer) => Hits): (matching: readonly Hits[]) => Set<Rule> {
  const everyPeer = all.filter((rule) => rule.peers === null);
  const byHits = new Map<Hits, Rule[]>();
  for (const rule of all)
    for (const p of rule.peers ?? []) {
      const h = hits(p);
      const list = byHits.get(h);
      if (list) list.push(rule);
      else byHits.set(h, [rule]);
    }
  return (matching) => {
    const out = new Set(everyPeer);
    for (const h of matching) for (const rule of byHits.get(h) ?? []) out.add(rule);
    return out;
  };
}
