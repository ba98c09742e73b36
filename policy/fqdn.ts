// domainNames patterns as the datapath matches them: upstream's DomainName (network-policy-api
// v1alpha2): an exact name, or "*." and a name, the wildcard standing for one or more whole labels
// ("*.example.com" matches www.example.com and a.b.example.com, never example.com). DNS names
// compare case-insensitively and a trailing dot is the root: both are normalized away here.
import type { Rule } from './model.ts';

/** The canonical text of a pattern: lowercase, no trailing dot. */
export function normalizePattern(name: string): string {
  return name.replace(/\.$/, '').toLowerCase();
}

/** Whether a (normalized or not) pattern matches a queried name. */
export function patternMatches(pattern: string, name: string): boolean {
  const p = normalizePattern(pattern);
  const n = normalizePattern(name);
  if (!p.startsWith('*.')) return p === n;
  const suffix = p.slice(1); // ".example.com"
  return n.length > suffix.length && n.endsWith(suffix);
}

/** The patterns an egress rule accepts by name: only Accept rules' domainNames count (upstream). */
export function rulePatterns(rule: Rule): string[] {
  if (rule.action !== 'Accept' || rule.peers === null) return [];
  const out: string[] = [];
  for (const p of rule.peers) if (p.type === 'domains') for (const n of p.names) out.push(normalizePattern(n));
  return out;
}
