// The layering test (Tailscale's deptest, for this tree): every import, resolved by the TypeScript
// compiler, is held to scripts/layering/rules.ts, and what pure code reaches is checked
// transitively. Fixture trees prove each rule can fail; docs/architecture.md must show the rules.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { check, RULES, type Rules, type Violation } from './layering/check.ts';
import { BEGIN, DOC, END, renderLayering, ROOT } from './layering/diagram.ts';
import { buildGraph } from './layering/graph.ts';
import { BASE, PARTS, skipDir } from './layering/rules.ts';

const topFolders = (root: string) => readdirSync(root).filter((n) => !skipDir(n) && statSync(join(root, n)).isDirectory());

describe('the rules', () => {
  it('name only parts, and nothing imports edge-agent/ or hub/', () => {
    for (const [name, part] of Object.entries(PARTS)) {
      for (const to of part.uses) expect(PARTS, `${name} -> ${to}`).toHaveProperty([to]);
      expect(part.uses).not.toContain('edge-agent');
      expect(part.uses).not.toContain('hub');
      for (const [sub, inner] of Object.entries(part.inner ?? {})) {
        for (const to of inner.uses) if (to !== '*') expect(part.inner, `${name}/${sub} -> ${to}`).toHaveProperty([to]);
      }
    }
  });

  it('allow only packages package.json installs: the product ships its dependencies', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, Record<string, string>>;
    for (const [name, part] of Object.entries(PARTS)) {
      for (const p of Object.keys(part.packages)) expect(pkg.dependencies, `${name}: ${p}`).toHaveProperty([p]);
      for (const p of Object.keys(part.testPackages ?? {})) expect({ ...pkg.dependencies, ...pkg.devDependencies }, `${name}: ${p}`).toHaveProperty([p]);
    }
  });

  it('draw no cycle, between parts or inside one', () => {
    const acyclic = (edges: Record<string, string[]>) => {
      const state = new Map<string, 'open' | 'done'>();
      const visit = (n: string): boolean => {
        if (state.get(n) === 'done') return true;
        if (state.get(n) === 'open') return false;
        state.set(n, 'open');
        const ok = (edges[n] ?? []).every(visit);
        state.set(n, 'done');
        return ok;
      };
      return Object.keys(edges).every(visit);
    };
    expect(acyclic(Object.fromEntries(Object.entries(PARTS).map(([n, p]) => [n, p.uses])))).toBe(true);
    for (const part of Object.values(PARTS)) {
      if (part.inner) expect(acyclic(Object.fromEntries(Object.entries(part.inner).map(([n, i]) => [n, i.uses.filter((u) => u !== '*')])))).toBe(true);
    }
  });
});

describe('the tree', () => {
  const graph = buildGraph(ROOT, topFolders(ROOT), skipDir);

  it('reads the whole tree and resolves its imports', () => {
    expect(graph.files.length).toBeGreaterThan(300);
    const edges = [...graph.imports.values()].flat();
    expect(edges.filter((i) => i.target.kind === 'file').length).toBeGreaterThan(1000);
    expect(edges.some((i) => i.target.kind === 'package' && i.target.name === 'mqtt')).toBe(true);
  });

  it('has no import that breaks the rules (scripts/layering/rules.ts)', () => {
    const lines = check(graph).map((v) => `${v.file}: ${v.spec} — ${v.why}`);
    expect(lines).toEqual([]);
  });

  it('docs/architecture.md shows the rules (run `npm run docs:layering`)', () => {
    const page = readFileSync(DOC, 'utf8');
    const section = page.slice(page.indexOf(BEGIN) + BEGIN.length, page.indexOf(END)).trim();
    expect(page).toContain(BEGIN);
    expect(section).toBe(renderLayering().trim());
  });
});

describe('fixture trees: each rule fails when broken', () => {
  const roots: string[] = [];
  afterAll(() => {
    for (const r of roots) rmSync(r, { recursive: true, force: true });
  });

  /** A throwaway tree with the project's tsconfig and packages, holding `files`; returns its violations. */
  function violationsOf(files: Record<string, string>, rules: Rules = { ...RULES, exceptions: [] }): Violation[] {
    const root = mkdtempSync(join(tmpdir(), 'weft-layering-'));
    roots.push(root);
    writeFileSync(join(root, 'tsconfig.json'), readFileSync(join(ROOT, 'tsconfig.json')));
    symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
    for (const [rel, body] of Object.entries(files)) {
      mkdirSync(dirname(join(root, rel)), { recursive: true });
      writeFileSync(join(root, rel), body);
    }
    return check(buildGraph(root, topFolders(root), skipDir), rules);
  }

  // A small tree that keeps every rule: the cases below each add one file that breaks one.
  const clean: Record<string, string> = {
    'base/index.ts': "export * from './pure.ts';\nexport * from './exec.ts';\n",
    'base/pure.ts': "export * from './ip.ts';\n",
    'base/ip.ts': 'export const parse = (s: string) => s.split(".");\n',
    'base/exec.ts': "import { execFileSync } from 'node:child_process';\nexport const run = (c: string) => execFileSync(c);\n",
    'policy/index.ts': "export { compile } from './compile.ts';\nexport type { Tables } from './tables.ts';\n",
    'policy/compile.ts':
      "import { parse as yaml } from 'yaml';\nimport { parse } from '../base/pure.ts';\nexport const compile = (s: string) => [yaml(s), parse(s)];\n",
    'policy/tables.ts': 'export interface Tables { n: number }\n',
    'policy/compile.test.ts': "import { readFileSync } from 'node:fs';\nimport { it } from 'vitest';\nit('reads', () => readFileSync('x'));\n",
    'protocol/index.ts': "import { createHash } from 'node:crypto';\nexport const topic = (id: string) => createHash('sha256').update(id).digest('hex');\n",
    'datapath/index.ts': "import type { Tables } from '../policy/index.ts';\nexport const apply = (t: Tables) => t.n;\n",
    'datapath/testing/index.ts': 'export const fake = 1;\n',
    'edge-agent/run.ts':
      "import { compile } from '../policy/index.ts';\nimport { apply } from '../datapath/index.ts';\nimport { run } from '../base/index.ts';\nimport mqtt from 'mqtt';\nexport const go = () => [compile, apply, run, mqtt, Date.now()];\n",
    'edge-agent/run.test.ts': "import { fake } from '../datapath/testing/index.ts';\nimport { it } from 'vitest';\nit('runs', () => fake);\n",
    'router/index.ts': "import { topic } from '../protocol/index.ts';\nexport const route = topic;\n",
    'hub/store/db.ts': 'export const db = 1;\n',
    'hub/server/app.ts': "import { db } from '../store/db.ts';\nimport { route } from '../../router/index.ts';\nexport const app = [db, route];\n",
    'bench/policy.ts': "import { compile } from '../policy/index.ts';\nexport const b = compile;\n",
    'docs/readme.md': 'not code\n',
  };
  const broken = (file: string, body: string) => violationsOf({ ...clean, [file]: body }).map((v) => `${v.rule} ${v.file}: ${v.why}`);

  it('a tree that keeps the rules has no violation', () => {
    expect(violationsOf(clean)).toEqual([]);
  });

  it('catches a forbidden arrow, and an import of hub/', () => {
    expect(broken('policy/bad.ts', "export { topic } from '../protocol/index.ts';\n")).toEqual([
      'arrow policy/bad.ts: policy -> protocol is not an arrow of DESIGN.md',
    ]);
    expect(broken('datapath/bad.ts', "import type { app } from '../hub/server/app.ts';\nexport type A = typeof app;\n")).toEqual([
      'arrow datapath/bad.ts: nothing imports hub/',
    ]);
  });

  it('catches I/O reached transitively, through a door a pure part may use', () => {
    expect(broken('protocol/bad.ts', "import { parse } from '../base/index.ts';\nexport const p = parse;\n")).toEqual([
      'pure protocol/bad.ts: protocol/ is pure but reaches the Node module child_process: protocol/bad.ts -> base/index.ts -> base/exec.ts',
    ]);
  });

  it('catches an import past a part’s index.ts, and a testing door in product code', () => {
    expect(broken('edge-agent/bad.ts', "import type { Tables } from '../policy/tables.ts';\nexport type T = Tables;\n")).toEqual([
      'door edge-agent/bad.ts: past policy/index.ts: import policy through its index.ts',
    ]);
    expect(broken('bench/bad.ts', "import { compile } from '../policy/compile.ts';\nexport const c = compile;\n")).toEqual([
      'door bench/bad.ts: past policy/index.ts: import policy through its index.ts',
    ]);
    expect(broken('edge-agent/bad.ts', "import { fake } from '../datapath/testing/index.ts';\nexport const f = fake;\n")).toEqual([
      'testing edge-agent/bad.ts: product code imports no testing/ helper',
    ]);
    expect(broken('datapath/bad.ts', "import { fake } from './testing/index.ts';\nexport const f = fake;\n")).toEqual([
      'testing datapath/bad.ts: product code imports no testing/ helper',
    ]);
  });

  it('catches an npm package a part may not import', () => {
    expect(broken('datapath/bad.ts', "import mqtt from 'mqtt';\nexport const m = mqtt;\n")).toEqual([
      "package datapath/bad.ts: datapath/ may not import the npm package mqtt (add it to the part's packages in rules.ts, with a reason)",
    ]);
    // The policy of the issue: policy/ could import mqtt unnoticed.
    expect(broken('policy/bad.ts', "import mqtt from 'mqtt';\nexport const m = mqtt;\n")).toEqual([
      "package policy/bad.ts: policy/ may not import the npm package mqtt (add it to the part's packages in rules.ts, with a reason)",
      'pure policy/bad.ts: policy/ is pure but reaches the npm package mqtt: policy/bad.ts',
    ]);
  });

  it('catches I/O, the clock and the process in a pure part, and in a pure file of base/', () => {
    expect(broken('protocol/bad.ts', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n")).toEqual([
      'pure protocol/bad.ts: protocol/ is pure but reaches the Node module fs: protocol/bad.ts',
    ]);
    expect(broken('policy/bad.ts', 'export const t = () => [Date.now(), new Date(), process.env.X];\nsetTimeout(() => {}, 1);\n')).toEqual([
      'pure policy/bad.ts: policy/ is pure but reaches Date.now() (take the clock, timers and process as arguments): policy/bad.ts',
      'pure policy/bad.ts: policy/ is pure but reaches new Date() (take the clock, timers and process as arguments): policy/bad.ts',
      'pure policy/bad.ts: policy/ is pure but reaches process (take the clock, timers and process as arguments): policy/bad.ts',
      'pure policy/bad.ts: policy/ is pure but reaches setTimeout() (take the clock, timers and process as arguments): policy/bad.ts',
    ]);
    expect(broken('base/ip.ts', "import { networkInterfaces } from 'node:os';\nexport const parse = () => networkInterfaces();\n")).toEqual([
      'pure base/ip.ts: base/ is pure but reaches the Node module os: base/ip.ts',
      'pure policy/compile.ts: policy/ is pure but reaches the Node module os: policy/compile.ts -> base/pure.ts -> base/ip.ts',
    ]);
  });

  it('catches a broken arrow inside the hub, and router/ reaching into hub/', () => {
    expect(broken('hub/store/bad.ts', "import { app } from '../server/app.ts';\nexport const a = app;\n")).toEqual([
      'inner hub/store/bad.ts: hub/store -> hub/server is not an arrow inside hub/ (rules.ts)',
    ]);
    expect(broken('router/bad.ts', "import { db } from '../hub/store/db.ts';\nexport const d = db;\n")).toEqual(['arrow router/bad.ts: nothing imports hub/']);
    expect(broken('hub/loose.ts', 'export const x = 1;\n')).toEqual(['inner hub/loose.ts: hub/loose.ts is in no sub-part of hub/ (rules.ts)']);
  });

  it('catches an import the compiler cannot resolve, and code in no part', () => {
    expect(broken('tunnel/bad.ts', "import { x } from './missing.ts';\nexport const y = x;\n")).toEqual([
      'unresolved tunnel/bad.ts: the TypeScript compiler cannot resolve it',
    ]);
    expect(broken('bpf/loader.ts', 'export const x = 1;\n')).toEqual([
      'unowned bpf/loader.ts: bpf/ is neither a part nor an outside folder of scripts/layering/rules.ts',
    ]);
  });

  it('excuses an import listed as an exception, and fails on an exception no longer needed', () => {
    const exceptions = [
      { from: 'hub/store/bad.ts', to: 'hub/server/app.ts', why: 'a fixture' },
      { from: 'hub/store/db.ts', to: 'hub/server/app.ts', why: 'a fixture' },
    ];
    const files = { ...clean, 'hub/store/bad.ts': "import { app } from '../server/app.ts';\nexport const a = app;\n" };
    expect(violationsOf(files, { ...RULES, exceptions }).map((v) => `${v.rule} ${v.file}: ${v.why}`)).toEqual([
      'exception hub/store/db.ts: the exception is no longer needed: remove it from rules.ts',
    ]);
  });

  it(`lets every part import ${BASE}/, and ${BASE}/ import none`, () => {
    expect(broken('base/bad.ts', "import { compile } from '../policy/index.ts';\nexport const c = compile;\n")).toEqual([
      'arrow base/bad.ts: base -> policy is not an arrow of DESIGN.md',
    ]);
  });
});
