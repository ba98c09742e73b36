// Label and field selectors as the API server parses them from ?labelSelector= / ?fieldSelector=.
// Used by the fake API server; enough of the grammar for what clients send: =, ==, !=, in, notin, exists, !exists.
import { SelectorError } from '../../../policy/index.ts';

export type Matcher = (obj: KubeObjectLike) => boolean;

export interface KubeObjectLike {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

/** Splits on commas that are not inside parentheses (`env in (a,b),tier=web`). */
function terms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

export function labelSelector(s: string | null): Matcher {
  if (!s) return () => true;
  const preds = terms(s).map((t): ((l: Record<string, string>) => boolean) => {
    let m: RegExpMatchArray | null;
    if ((m = t.match(/^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/))) {
      const [, key, op, list] = m;
      const vals = new Set(list.split(',').map((v) => v.trim()));
      return op === 'in' ? (l) => key in l && vals.has(l[key]) : (l) => !(key in l) || !vals.has(l[key]);
    }
    if ((m = t.match(/^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/))) {
      const [, key, op, val] = m;
      return op === '!=' ? (l) => l[key] !== val : (l) => l[key] === val;
    }
    if ((m = t.match(/^!([\w./-]+)$/))) {
      const key = m[1];
      return (l) => !(key in l);
    }
    if ((m = t.match(/^([\w./-]+)$/))) {
      const key = m[1];
      return (l) => key in l;
    }
    throw new SelectorError(`unable to parse requirement: ${JSON.stringify(t)}`);
  });
  return (o) => preds.every((p) => p(o.metadata?.labels ?? {}));
}

const FIELDS: Record<string, (o: KubeObjectLike) => unknown> = {
  'metadata.name': (o) => o.metadata?.name,
  'metadata.namespace': (o) => o.metadata?.namespace,
  'spec.nodeName': (o) => o.spec?.nodeName,
  'status.phase': (o) => o.status?.phase,
};

export function fieldSelector(s: string | null): Matcher {
  if (!s) return () => true;
  const preds = terms(s).map((t) => {
    const m = t.match(/^([\w.]+)\s*(==|=|!=)\s*(.*)$/);
    if (!m) throw new SelectorError(`invalid field selector term ${JSON.stringify(t)}`);
    const [, field, op, val] = m;
    const get = FIELDS[field];
    if (!get) throw new SelectorError(`field label not supported: ${field}`);
    const eq = (o: KubeObjectLike) => String(get(o) ?? '') === val;
    return op === '!=' ? (o: KubeObjectLike) => !eq(o) : eq;
  });
  return (o) => preds.every((p) => p(o));
}
