// The outside conformance corpora (../shared/conformance, beside the checkout; never copied into the
// repository) as data for kernel tests: each case's manifests, and the queries with the verdicts the
// independent analyzer expects, exactly as the corpus runner derives them.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Flow, ManifestText } from '../../policy/index.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** ../shared/conformance beside the checkout, when it is there (CI puts it there). */
export function conformanceDir(): string | undefined {
  const dir = resolve(root, '../shared/conformance');
  return existsSync(join(dir, 'check-netpol-corpus')) ? dir : undefined;
}

export interface CorpusCase {
  name: string;
  dir: string;
  queries: Flow[];
  expected: boolean[];
}

// The runner derives queries and verdicts and then calls `weft policy eval`; this stand-in answers
// null to every query (so it costs nothing) and the runner keeps both files (NETPOL_CORPUS_KEEP).
const STAND_IN = `const f = process.argv[process.argv.indexOf('--queries') + 1];
process.stdout.write(JSON.stringify(JSON.parse(require('fs').readFileSync(f, 'utf8')).map(() => ({ allowed: null }))));`;

/** Every case of one corpus with at most `maxQueries` of the runner's queries each. */
export function corpusCases(corpus: string, maxQueries: number): CorpusCase[] {
  const conformance = conformanceDir();
  if (!conformance) throw new Error('../shared/conformance is not beside the checkout');
  const dir = join(conformance, corpus);
  const work = mkdtempSync(join(tmpdir(), 'weft-corpus-'));
  try {
    writeFileSync(join(work, 'package.json'), JSON.stringify({ private: true, scripts: { weft: 'node stand-in.cjs' } }));
    writeFileSync(join(work, 'stand-in.cjs'), STAND_IN);
    const r = spawnSync(join(conformance, 'check-netpol-corpus'), {
      cwd: work,
      encoding: 'utf8',
      env: { ...process.env, NETPOL_CORPUS_CORPUS: dir, NETPOL_CORPUS_KEEP: '1', NETPOL_CORPUS_MAX_QUERIES: String(maxQueries), NETPOL_CORPUS_JOBS: '4' },
    });
    const kept = /kept in (\S+)/.exec(r.stderr ?? '')?.[1];
    if (!kept) throw new Error(`the corpus runner kept no queries: ${r.stdout}${r.stderr}`);
    try {
      return readdirSync(kept)
        .filter((f) => f.endsWith('.queries.json'))
        .sort()
        .map((f) => {
          const name = f.slice(0, -'.queries.json'.length);
          const read = (suffix: string): unknown => JSON.parse(readFileSync(join(kept, `${name}${suffix}`), 'utf8'));
          return { name, dir: join(dir, name), queries: read('.queries.json') as Flow[], expected: read('.expected.json') as boolean[] };
        });
    } finally {
      rmSync(kept, { recursive: true, force: true });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** A case's manifests (*.yaml, *.yml, *.json under manifests/, sorted) for policy.parseManifests. */
export function caseManifests(c: CorpusCase): ManifestText[] {
  const out: ManifestText[] = [];
  const walk = (p: string): void => {
    if (statSync(p).isDirectory()) for (const n of readdirSync(p).sort()) walk(join(p, n));
    else if (/\.(ya?ml|json)$/i.test(p)) out.push({ file: p, text: readFileSync(p, 'utf8') });
  };
  walk(join(c.dir, 'manifests'));
  return out;
}

export interface Probed {
  flow: Flow;
  allowed: boolean;
}

const IPV4 = /^\d+\.\d+\.\d+\.\d+$/;
export const isAddress = (endpoint: string): boolean => IPV4.test(endpoint);

/** An address a namespace can hold and route: not 0/8, loopback, multicast or reserved. */
function holdable(address: string): boolean {
  const first = Number(address.split('.')[0]);
  return first !== 0 && first !== 127 && first < 224;
}

/** mulberry32: a small seeded generator, so every run probes the same sample. */
function seeded(seed: string): () => number {
  let a = [...seed].reduce((h, ch) => Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0, 2166136261);
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * At most n of a case's queries, taken in turn from each (protocol, verdict, pod or external) group so
 * a small sample still holds allowed and denied TCP, UDP and SCTP, between pods and to outside.
 */
export function sampleQueries(c: CorpusCase, n: number): Probed[] {
  const rand = seeded(c.name);
  const groups = new Map<string, Probed[]>();
  c.queries.forEach((flow, i) => {
    const outside = [flow.src, flow.dst].filter(isAddress);
    if (!outside.every(holdable)) return;
    const key = `${flow.protocol}|${c.expected[i]}|${outside.length > 0}`;
    groups.set(key, [...(groups.get(key) ?? []), { flow, allowed: c.expected[i] }]);
  });
  const lists = [...groups.keys()].sort().map((k) => {
    const list = groups.get(k) ?? [];
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [list[i], list[j]] = [list[j], list[i]];
    }
    return list;
  });
  const out: Probed[] = [];
  for (let round = 0; out.length < n && lists.some((l) => round < l.length); round++)
    for (const l of lists) if (round < l.length && out.length < n) out.push(l[round]);
  return out;
}
