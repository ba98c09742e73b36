// Every error code the product can raise, read from its source, and docs/errors.md written from
// them (as fastify lists its errors): a code added in the code and not in the docs fails
// scripts/error-codes.test.ts. Run `npm run docs:errors` to rewrite the page after adding codes.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const DOC = join(ROOT, 'docs', 'errors.md');

/** Parts whose code runs for a user (field-tests/lib builds `npm start`'s demo). */
const PARTS = [
  'base',
  'policy',
  'protocol',
  'tunnel',
  'datapath',
  'bpf',
  'offline-store',
  'edge-agent',
  'router',
  'hub',
  'images',
  'scripts',
  'field-tests/lib',
];

/**
 * Codes that other software raises and our code only matches or passes on: Node (ERR_*, EAI_*,
 * MODULE_NOT_FOUND), fastify (FST_*), undici (UND_*), SQLite (SQLITE_*), postject (NODE_SEA_*).
 */
const FOREIGN = /^(ERR_|EAI_|FST_|UND_|SQLITE_|NODE_SEA_)|^MODULE_NOT_FOUND$/;
const CODE = /'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)'/g;

const skip = (p: string) => /\.test\.ts$|\/testing\/|\/testdata\/|\/node_modules\/|\/build\//.test(p);

function walk(dir: string, out: string[]): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.ts') && !skip(p)) out.push(p);
  }
}

export interface CodeInfo {
  code: string;
  /** Files (repository paths) that name it. */
  files: string[];
  /** The comment on the line that declares it in a code union, else the first message raised with it. */
  meaning: string;
  /** Whether the meaning came from the declaration's comment. */
  declared: boolean;
}

/** The message a `new XError('CODE', 'message …')` gives, with its interpolations shown as `…`. */
function messageAfter(code: string, text: string): string {
  const m = new RegExp(`'${code}',\\s*(['\`])((?:(?!\\1).)+)\\1`).exec(text);
  return m ? withoutInterpolations(m[2]).trim() : '';
}

/** `a ${x.map((y) => y)} b` -> `a … b`; an interpolation cut off by the line end ends the text. */
function withoutInterpolations(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== '$' || s[i + 1] !== '{') {
      out += s[i];
      continue;
    }
    let depth = 0;
    let j = i + 1;
    for (; j < s.length; j++) {
      if (s[j] === '{') depth++;
      else if (s[j] === '}' && --depth === 0) break;
    }
    out += '…';
    if (j >= s.length) break;
    i = j;
  }
  return out;
}

export function collectCodes(): CodeInfo[] {
  const files: string[] = [];
  for (const part of PARTS) walk(join(ROOT, part), files);
  const byCode = new Map<string, CodeInfo>();
  for (const file of files) {
    const rel = relative(ROOT, file);
    const lines = readFileSync(file, 'utf8').split('\n');
    for (const [i, line] of lines.entries()) {
      for (const m of line.matchAll(CODE)) {
        const code = m[1];
        if (FOREIGN.test(code)) continue;
        const info = byCode.get(code) ?? { code, files: [], meaning: '', declared: false };
        if (!info.files.includes(rel)) info.files.push(rel);
        const comment = /^\s*\|\s*'[A-Z0-9_]+'\s*(?:;\s*)?\/\/\s*(.+)$/.exec(line);
        // A comment on the code's declaration says what it means; else the first message raised with it.
        if (comment && !info.declared) Object.assign(info, { meaning: comment[1].trim(), declared: true });
        if (!info.meaning) info.meaning = messageAfter(code, `${line}\n${lines[i + 1] ?? ''}`);
        byCode.set(code, info);
      }
    }
  }
  return [...byCode.values()].sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
}

export function renderDoc(codes: CodeInfo[]): string {
  const rows = codes.map((c) => `| \`${c.code}\` | ${c.meaning.replace(/\|/g, '\\|')} | ${c.files.map((f) => `\`${f}\``).join(', ')} |`);
  return [
    '# Error codes',
    '',
    'Every error Weft raises for bad input or a failed operation carries one of these codes, printed as',
    '`message (CODE)` with a hint that names the fix; the hub API answers `{ code, message }`. The list is',
    'generated from the source by `npm run docs:errors`; `scripts/error-codes.test.ts` fails when a code',
    'in the code is missing here or a code here is no longer in the code.',
    '',
    '| code | meaning | raised in |',
    '|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

/** Meanings written by hand in the page, kept for codes whose declaration carries no comment. */
function meaningsInDoc(): Map<string, string> {
  let text = '';
  try {
    text = readFileSync(DOC, 'utf8');
  } catch {
    return new Map();
  }
  return new Map([...text.matchAll(/^\| `([A-Z0-9_]+)` \| (.*?) \| [^|]*\|$/gm)].map((m) => [m[1], m[2].trim()]));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const kept = meaningsInDoc();
  const codes = collectCodes().map((c) => ({ ...c, meaning: c.declared ? c.meaning : kept.get(c.code) || c.meaning }));
  writeFileSync(DOC, renderDoc(codes));
  process.stdout.write(`wrote ${relative(ROOT, DOC)}\n`);
}
