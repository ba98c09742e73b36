// The import graph of the tree as the TypeScript compiler sees it: every file's imports (static,
// dynamic, re-exports, `import type`) found by ts.preProcessFile and resolved by
// ts.resolveModuleName with the project's own compiler options, so a path alias, an extension or
// a package's `exports` map means what it means to tsc, not what a regex guesses.
// Type-only imports count, as in Tailscale's deptest: they create no runtime edge, but they couple
// the two parts' APIs all the same, and `import type` is one keyword away from a runtime import
// (with verbatimModuleSyntax off, tsc even drops a plain import used only for types).
import { builtinModules } from 'node:module';
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import ts from 'typescript';

/** Where one import specifier leads. */
export type Target =
  | { kind: 'file'; path: string } // a file of this repository, relative to the root, with '/'
  | { kind: 'package'; name: string } // an npm package
  | { kind: 'builtin'; name: string } // a Node built-in, without the `node:` prefix
  | { kind: 'unresolved' };

export interface Import {
  spec: string;
  target: Target;
}

export interface Graph {
  root: string;
  /** Every source file found, relative to the root, sorted. */
  files: string[];
  /** The imports of each file, in source order. */
  imports: Map<string, Import[]>;
}

const SOURCE = /\.(ts|mts|cts|js|mjs|cjs)$/;
const DECLARATION = /\.d\.(ts|mts|cts)$/;
const BUILTINS = new Set(builtinModules);

/** The compiler options of the project's tsconfig.json, so resolution matches `tsc --noEmit`. */
export function compilerOptions(root: string): ts.CompilerOptions {
  const file = join(root, 'tsconfig.json');
  const read = ts.readConfigFile(file, ts.sys.readFile);
  if (read.error) throw new Error(`${file}: ${ts.flattenDiagnosticMessageText(read.error.messageText, '\n')}`);
  return ts.parseJsonConfigFileContent(read.config, ts.sys, root).options;
}

function walk(dir: string, skip: (name: string) => boolean, out: string[]): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names.sort()) {
    if (skip(name)) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, skip, out);
    else if (SOURCE.test(name) && !DECLARATION.test(name)) out.push(p);
  }
}

/** `@scope/name/sub` -> `@scope/name`, `name/sub` -> `name`. */
export function packageName(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

const toRel = (root: string, abs: string) => relative(root, abs).split(sep).join('/');

/**
 * Reads the files under `folders` (relative to root; folders that do not exist are skipped) and
 * resolves every import. `skipDir` names directories never entered (build output, caches).
 */
export function buildGraph(root: string, folders: readonly string[], skipDir: (name: string) => boolean): Graph {
  const realRoot = realpathSync(root);
  const options = compilerOptions(root);
  const cache = ts.createModuleResolutionCache(realRoot, (f) => f, options);
  const abs: string[] = [];
  for (const f of folders) walk(join(realRoot, f), skipDir, abs);
  const imports = new Map<string, Import[]>();
  for (const file of abs) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const list: Import[] = [];
    for (const { fileName: spec } of info.importedFiles) list.push({ spec, target: resolve(spec, file) });
    imports.set(toRel(realRoot, file), list);
  }
  return { root: realRoot, files: [...imports.keys()].sort(), imports };

  function resolve(spec: string, from: string): Target {
    const bare = spec.startsWith('node:') ? spec.slice(5) : spec;
    if (spec.startsWith('node:') || BUILTINS.has(bare)) return { kind: 'builtin', name: bare };
    const mode = ts.getImpliedNodeFormatForFile(from as ts.Path, cache.getPackageJsonInfoCache(), ts.sys, options);
    const r = ts.resolveModuleName(spec, from, options, ts.sys, cache, undefined, mode).resolvedModule;
    if (!r) return { kind: 'unresolved' };
    if (r.isExternalLibraryImport) return { kind: 'package', name: packageName(spec) };
    const path = toRel(realRoot, realpathSync(r.resolvedFileName));
    return path.startsWith('..') ? { kind: 'unresolved' } : { kind: 'file', path };
  }
}
