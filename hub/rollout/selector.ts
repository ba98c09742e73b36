// Label selectors for rollouts and for the per-policy site annotation: `key=value,key2=value2`
// (equality only, every term must match; the empty selector matches every site).
import { SelectorError } from '../../policy/index.ts';
import type { LabelSelector } from '../store/types.ts';

const TERM_RE = /^([A-Za-z0-9][-A-Za-z0-9_./]{0,252})=([-A-Za-z0-9_.]{0,63})$/;

export function parseSelector(text: string): LabelSelector {
  const matchLabels: Record<string, string> = {};
  for (const term of text
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)) {
    const m = TERM_RE.exec(term);
    if (!m) throw new SelectorError(`selector term "${term}" is not key=value`);
    matchLabels[m[1]] = m[2];
  }
  return { matchLabels };
}

export function matches(s: LabelSelector, labels: Record<string, string>): boolean {
  return Object.entries(s.matchLabels).every(([k, v]) => labels[k] === v);
}
