// Differences between two policy versions: which objects were added, removed or changed (by kind,
// namespace and name), and a unified line diff of the YAML as pushed.
import { canonicalJson } from '../../policy/index.ts';

export interface ObjectDiff {
  added: string[];
  removed: string[];
  changed: string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function objectKey(o: unknown, i: number): string {
  if (!isObj(o)) return `#${i}`;
  const m = isObj(o.metadata) ? o.metadata : {};
  const ns = typeof m.namespace === 'string' ? `${m.namespace}/` : '';
  return `${String(o.kind)}/${ns}${String(m.name)}`;
}

export function diffObjects(from: readonly unknown[], to: readonly unknown[]): ObjectDiff {
  const a = new Map(from.map((o, i) => [objectKey(o, i), canonicalJson(o)]));
  const b = new Map(to.map((o, i) => [objectKey(o, i), canonicalJson(o)]));
  return {
    added: [...b.keys()].filter((k) => !a.has(k)).sort(),
    removed: [...a.keys()].filter((k) => !b.has(k)).sort(),
    changed: [...b.keys()].filter((k) => a.has(k) && a.get(k) !== b.get(k)).sort(),
  };
}

/** Line diff by longest common subsequence; lines prefixed ' ', '-' or '+'. Inputs are policy files: small. */
export function diffLines(from: string, to: string): string[] {
  const a = from.split('\n');
  const b = to.split('\n');
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      out.push(` ${a[i]}`);
      i++;
      j++;
    } else if (j < b.length && (i === a.length || lcs[i][j + 1] >= lcs[i + 1][j])) out.push(`+${b[j++]}`);
    else out.push(`-${a[i++]}`);
  }
  return out;
}
