// Fails when a folder imports across the arrows of DESIGN.md, when a pure folder (policy/,
// protocol/) imports something that does I/O or reads the clock, or when product code imports a
// testing/ helper.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const FOLDERS = [
  'base',
  'policy',
  'protocol',
  'tunnel',
  'datapath',
  'offline-store',
  'edge-agent',
  'hub',
  'images',
  'field-tests',
  'bench',
  'scripts',
] as const;

// DESIGN.md's arrows. images/, field-tests/, bench/ and scripts/ sit outside the product and may use any part.
// Every part may import base/; base/ imports no other part.
const ALLOWED: Record<string, string[]> = {
  base: [],
  policy: [],
  protocol: [],
  tunnel: ['protocol'],
  'offline-store': ['protocol'],
  datapath: ['policy'],
  'edge-agent': ['policy', 'protocol', 'tunnel', 'datapath', 'offline-store'],
  hub: ['policy', 'protocol', 'tunnel'],
};
const EVERY_PART_MAY_IMPORT = 'base';
const PURE = new Set(['policy', 'protocol']);
// DESIGN.md puts the in-memory datapath under datapath/testing/, and the agent also runs it as its fallback.
const TESTING_IN_PRODUCT = new Set(['datapath/index.ts ./testing/memory-datapath.ts']);
// base/ may run commands and wait, but the files every pure part imports stay pure themselves.
const PURE_FILES = new Set(['base/ip.ts', 'base/errors.ts']);
const IO_MODULES =
  /^(node:)?(fs|fs\/promises|net|dgram|dns|http|https|http2|tls|child_process|cluster|worker_threads|timers|timers\/promises|readline|os|process|vm)$/;
// Pure code may still be tested with files and timers: tests are not the core.
const isTest = (f: string) => f.endsWith('.test.ts') || f.includes('/testing/');

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.') || name === 'build' || name === 'dist' || name === 'cache' || name === 'out') continue;
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) walk(p, out);
    else if (/\.(ts|mts|js|mjs)$/.test(name)) out.push(p);
  }
  return out;
}

export function importsOf(src: string): string[] {
  const out: string[] = [];
  const re = /(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;(])import\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm;
  for (const m of src.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

interface Violation {
  file: string;
  spec: string;
  why: string;
}

export function violations(files: string[]): Violation[] {
  const bad: Violation[] = [];
  for (const file of files) {
    const rel = relative(root, file);
    const folder = rel.split('/')[0];
    const src = readFileSync(file, 'utf8');
    for (const spec of importsOf(src)) {
      // Fakes and fixtures serve tests, benchmarks, field tests and the demo, never the product itself.
      if (folder in ALLOWED && !isTest(rel) && spec.startsWith('.') && spec.split('/').includes('testing') && !TESTING_IN_PRODUCT.has(`${rel} ${spec}`)) {
        bad.push({ file: rel, spec, why: 'product code imports no testing/ helper' });
      }
      if (spec.startsWith('.')) {
        const target = relative(root, resolve(dirname(file), spec)).split('/')[0];
        // package.json is data (the version), not a folder of code.
        if (target === folder || target === 'package.json' || !(folder in ALLOWED)) continue;
        if (target === EVERY_PART_MAY_IMPORT && folder !== EVERY_PART_MAY_IMPORT) continue;
        if (target === 'edge-agent' || target === 'hub') bad.push({ file: rel, spec, why: `nothing imports ${target}/` });
        else if (!ALLOWED[folder].includes(target)) bad.push({ file: rel, spec, why: `${folder} -> ${target} is not an arrow of DESIGN.md` });
      } else if ((PURE.has(folder) || PURE_FILES.has(rel)) && !isTest(rel) && IO_MODULES.test(spec)) {
        bad.push({ file: rel, spec, why: `${PURE_FILES.has(rel) ? rel : `${folder}/`} is pure: no I/O module` });
      }
    }
    if ((PURE.has(folder) || PURE_FILES.has(rel)) && !isTest(rel)) {
      const code = src.replace(/\/\/.*$/gm, '');
      for (const [re, what] of [
        [/\bDate\.now\s*\(/, 'Date.now()'],
        [/\bnew Date\s*\(\s*\)/, 'new Date()'],
        [/\bset(Timeout|Interval|Immediate)\s*\(/, 'timers'],
        [/\bprocess\./, 'process'],
        [/\bperformance\.now\s*\(/, 'performance.now()'],
      ] as const) {
        if (re.test(code)) bad.push({ file: rel, spec: what, why: `${folder}/ is pure: take the clock or timers as arguments` });
      }
    }
  }
  return bad;
}

describe('layering (DESIGN.md arrows)', () => {
  it('the repository has no import across the arrows and no I/O in pure folders', () => {
    const files = FOLDERS.flatMap((f) => {
      try {
        return walk(join(root, f));
      } catch {
        return [];
      }
    });
    expect(files.length).toBeGreaterThan(0);
    expect(violations(files)).toEqual([]);
  });

  it('bpf/ holds only C: its TypeScript side lives in datapath/', () => {
    expect(walk(join(root, 'bpf')).map((f) => relative(root, f))).toEqual([]);
  });

  it('catches a forbidden arrow, an import of hub/, and I/O in a pure folder', async () => {
    const { mkdtempSync, writeFileSync, mkdirSync, rmSync } = await import('node:fs');
    const tmp = mkdtempSync(join(root, 'policy', '.layering-'));
    try {
      const files: string[] = [];
      const put = (rel: string, body: string) => {
        const p = join(tmp, rel);
        mkdirSync(dirname(p), { recursive: true });
        writeFileSync(p, body);
        files.push(p);
      };
      put('a.ts', "import { x } from '../../hub/server.ts';\n");
      put('b.ts', "import { readFileSync } from 'node:fs';\n");
      put('c.ts', 'export const t = () => Date.now();\n');
      put('d.ts', "import { y } from '../../tunnel/keys.ts';\n");
      put('e.ts', "import { w } from './testing/world.ts';\n");
      put('f.ts', "import { parseIp } from '../../base/index.ts';\n");
      const v = violations(files).map((x) => x.why);
      expect(v).toEqual(
        expect.arrayContaining([
          'nothing imports hub/',
          'policy/ is pure: no I/O module',
          'policy/ is pure: take the clock or timers as arguments',
          'policy -> tunnel is not an arrow of DESIGN.md',
          'product code imports no testing/ helper',
        ]),
      );
      expect(v.filter((w) => w.includes('base'))).toEqual([]);
      const fromBase = join(root, 'base', '.layering-probe.ts');
      writeFileSync(fromBase, "import { compile } from '../policy/index.ts';\n");
      try {
        expect(violations([fromBase]).map((x) => x.why)).toEqual(['base -> policy is not an arrow of DESIGN.md']);
      } finally {
        rmSync(fromBase, { force: true });
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
