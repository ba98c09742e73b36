// Holds an import graph (graph.ts) to the layering rules (rules.ts), as Tailscale's deptest holds
// a package's dependencies to its list. Every edge is checked where it is drawn: the arrow between
// parts, the door it goes through, the npm package it names, the arrow inside the hub. Purity is
// checked on what a pure file reaches, transitively, so a pure part cannot do I/O through a file
// it may import (policy -> base/index.ts -> base/exec.ts -> child_process).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import type { Graph, Import } from './graph.ts';
import {
  BASE,
  DOOR,
  EXCEPTIONS,
  type Exception,
  isTestCode,
  OUTSIDE,
  PARTS,
  PURE_BUILTINS,
  PURE_PACKAGES,
  ROOT_FILES,
  TEST_DOOR,
  TEST_PACKAGES,
  type Part,
} from './rules.ts';

export type Rule = 'unresolved' | 'unowned' | 'arrow' | 'door' | 'testing' | 'package' | 'inner' | 'pure' | 'exception';

export interface Violation {
  rule: Rule;
  file: string;
  /** The import specifier, or what was found (`Date.now()`). */
  spec: string;
  why: string;
}

export interface Rules {
  parts: Record<string, Part>;
  outside: Record<string, string>;
  exceptions: Exception[];
}

export const RULES: Rules = { parts: PARTS, outside: OUTSIDE, exceptions: EXCEPTIONS };

/** Where a file belongs: a part (the one with the longest folder that holds it), an outside folder, or the root. */
type Owner = { kind: 'part'; name: string; part: Part; inside: string } | { kind: 'outside'; name: string } | { kind: 'root' } | { kind: 'none' };

export function ownerOf(file: string, rules: Rules = RULES): Owner {
  let best: Owner = { kind: 'none' };
  let bestLen = -1;
  for (const [name, part] of Object.entries(rules.parts)) {
    if (file.startsWith(`${part.dir}/`) && part.dir.length > bestLen) {
      best = { kind: 'part', name, part, inside: file.slice(part.dir.length + 1) };
      bestLen = part.dir.length;
    }
  }
  if (best.kind !== 'none') return best;
  const top = file.split('/')[0];
  if (top in rules.outside) return { kind: 'outside', name: top };
  if (!file.includes('/')) return { kind: 'root' };
  return best;
}

/** The sub-part of a part that holds a file (path relative to the part's folder), if any. */
export function innerOf(part: Part, inside: string): string | undefined {
  for (const [name, inner] of Object.entries(part.inner ?? {})) {
    if (inner.paths.some((p) => (p.endsWith('/') ? inside.startsWith(p) : inside === p))) return name;
  }
  return undefined;
}

/** Every violation of the rules in the graph, sorted by file. */
export function check(graph: Graph, rules: Rules = RULES): Violation[] {
  const out: Violation[] = [];
  const used = new Set<Exception>();
  for (const file of graph.files) {
    const owner = ownerOf(file, rules);
    if (owner.kind === 'none') {
      out.push({ rule: 'unowned', file, spec: '', why: `${file.split('/')[0]}/ is neither a part nor an outside folder of scripts/layering/rules.ts` });
      continue;
    }
    if (owner.kind === 'part' && owner.part.inner && !innerOf(owner.part, owner.inside)) {
      out.push({ rule: 'inner', file, spec: '', why: `${file} is in no sub-part of ${owner.name}/ (rules.ts)` });
    }
    for (const imp of graph.imports.get(file) ?? []) {
      const v = checkEdge(file, owner, imp, rules);
      const to = imp.target.kind === 'file' ? imp.target.path : undefined;
      const excused = v && rules.exceptions.find((e) => e.from === file && e.to === to);
      if (excused) used.add(excused);
      else if (v) out.push({ file, spec: imp.spec, ...v });
    }
  }
  for (const e of rules.exceptions) {
    if (!used.has(e)) out.push({ rule: 'exception', file: e.from, spec: e.to, why: 'the exception is no longer needed: remove it from rules.ts' });
  }
  out.push(...checkPure(graph, rules));
  return out.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

function checkEdge(file: string, from: Owner, imp: Import, rules: Rules): Pick<Violation, 'rule' | 'why'> | undefined {
  const test = isTestCode(file);
  const t = imp.target;
  if (t.kind === 'unresolved') return { rule: 'unresolved', why: 'the TypeScript compiler cannot resolve it' };
  if (t.kind === 'builtin') return undefined; // pure code is checked on what it reaches, below
  if (t.kind === 'package') {
    if (from.kind !== 'part') return undefined;
    if (t.name in from.part.packages) return undefined;
    if (test && (t.name in TEST_PACKAGES || t.name in (from.part.testPackages ?? {}))) return undefined;
    return { rule: 'package', why: `${from.name}/ may not import the npm package ${t.name} (add it to the part's packages in rules.ts, with a reason)` };
  }
  const to = ownerOf(t.path, rules);
  if (to.kind === 'root') return t.path in ROOT_FILES ? undefined : { rule: 'arrow', why: `${t.path} is not a root file parts may import` };
  if (to.kind === 'none') return { rule: 'unowned', why: `${t.path} is in no part` };
  if (to.kind === 'outside') {
    if (from.kind === 'outside') return undefined;
    return { rule: 'arrow', why: `${to.name}/ is outside the product: no part imports it` };
  }
  // to is a part. Fakes and harnesses serve tests, benchmarks, field tests and the demo, never the product.
  const helper = from.kind === 'part' && !test && isTestCode(t.path) ? { rule: 'testing' as const, why: 'product code imports no testing/ helper' } : undefined;
  if (from.kind === 'part' && from.name === to.name) return helper ?? innerEdge(from.part, from.name, from.inside, to.inside, test);
  if (from.kind === 'part' && to.name !== BASE && !from.part.uses.includes(to.name)) {
    const nothing = !Object.values(rules.parts).some((p) => p.uses.includes(to.name));
    return { rule: 'arrow', why: nothing ? `nothing imports ${to.name}/` : `${from.name} -> ${to.name} is not an arrow of DESIGN.md` };
  }
  if (helper) return helper;
  // The test door is open to test code and outside folders, which are all that is left here.
  if (to.inside === DOOR || to.inside === TEST_DOOR || to.inside in (to.part.doors ?? {})) return undefined;
  return { rule: 'door', why: `past ${to.part.dir}/${DOOR}: import ${to.name} through its ${DOOR}` };
}

function innerEdge(part: Part, name: string, fromInside: string, toInside: string, test: boolean): Pick<Violation, 'rule' | 'why'> | undefined {
  if (!part.inner) return undefined;
  const a = innerOf(part, fromInside);
  const b = innerOf(part, toInside);
  if (!a || !b || a === b) return undefined; // a file in no sub-part is reported once, on its own
  const uses = part.inner[a].uses;
  if (uses.includes('*') || uses.includes(b)) return undefined;
  // Tests may use the part's harnesses (testing/), which stand up the whole of it.
  if (test && part.inner[b].uses.includes('*')) return undefined;
  return { rule: 'inner', why: `${name}/${a} -> ${name}/${b} is not an arrow inside ${name}/ (rules.ts)` };
}

/** The files whose reach must be pure: the non-test files of pure parts, and the pure files listed. */
function pureRoots(graph: Graph, rules: Rules): string[] {
  return graph.files.filter((f) => {
    const o = ownerOf(f, rules);
    if (o.kind !== 'part' || isTestCode(f)) return false;
    return o.part.pure === true || (Array.isArray(o.part.pure) && o.part.pure.includes(f));
  });
}

function checkPure(graph: Graph, rules: Rules): Violation[] {
  const out: Violation[] = [];
  const seen = new Set<string>(); // "<part of root>\0<offending file>\0<what>": one report each
  const clock = new Map<string, string[]>();
  for (const root of pureRoots(graph, rules)) {
    const rootPart = ownerOf(root, rules).kind === 'part' ? (ownerOf(root, rules) as { name: string }).name : '';
    // Breadth first, so each file is reached by a shortest chain of imports.
    const via = new Map<string, string>([[root, '']]);
    const queue = [root];
    while (queue.length > 0) {
      const file = queue.shift() as string;
      const chain = () => {
        const steps = [file];
        for (let f = via.get(file); f; f = via.get(f)) steps.unshift(f);
        return steps.join(' -> ');
      };
      const report = (spec: string, what: string) => {
        const key = `${rootPart}\0${file}\0${spec}`;
        if (seen.has(key)) return;
        seen.add(key);
        out.push({ rule: 'pure', file: root, spec, why: `${rootPart}/ is pure but reaches ${what}: ${chain()}` });
      };
      if (!clock.has(file)) clock.set(file, file.endsWith('.json') ? [] : clockUses(join(graph.root, file)));
      for (const use of clock.get(file) ?? []) report(use, `${use} (take the clock, timers and process as arguments)`);
      for (const imp of graph.imports.get(file) ?? []) {
        const t = imp.target;
        if (t.kind === 'builtin' && !(t.name in PURE_BUILTINS)) report(imp.spec, `the Node module ${t.name}`);
        else if (t.kind === 'package' && !(t.name in PURE_PACKAGES)) report(imp.spec, `the npm package ${t.name}`);
        else if (t.kind === 'file' && !via.has(t.path)) {
          via.set(t.path, file);
          queue.push(t.path);
        }
      }
    }
  }
  return out;
}

/** What a file does with the clock, timers, randomness or the process, found in its syntax tree. */
export function clockUses(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  const sf = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const found = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression)) {
      const name = `${node.expression.text}.${node.name.text}`;
      if (name === 'Date.now' || name === 'performance.now' || name === 'Math.random') found.add(`${name}()`);
      else if (node.expression.text === 'process') found.add('process');
    }
    if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'Date' && (node.arguments?.length ?? 0) === 0) {
      found.add('new Date()');
    }
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && /^(set|clear)(Timeout|Interval|Immediate)$/.test(node.expression.text)) {
      found.add(`${node.expression.text}()`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return [...found].sort();
}
