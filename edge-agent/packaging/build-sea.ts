// npm run build:agent [-- --out dist/weft-agent]
// The agent as one file: esbuild bundles edge-agent/cli/main.ts into a CommonJS script, Node's
// single executable application (SEA) support turns it into a blob with the native addons and BPF
// objects as assets (edge-agent/packaging/assets.ts extracts them at start), and postject writes
// the blob into a copy of this machine's own `node`. Nothing is downloaded: it builds offline.
// Not `pkg`: pkg fetches prebuilt base binaries from the network at build time (docs/technician.md).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { SOURCE_ARTIFACTS } from '../../datapath/index.ts';
import { formatError } from '../../base/index.ts';
import { AgentError } from '../errors.ts';
import { ASSETS, ASSETS_HASH_KEY, assetsHash } from './assets.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);
/** The fuse Node looks for to know a blob was injected (Node's SEA docs). */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

export interface BuildSeaOptions {
  /** Output path of the binary (default dist/weft-agent). */
  out?: string;
  /** The agent version the binary reports (default package.json's): `npm run build:release --version`. */
  version?: string;
  log?: (m: string) => void;
}

export interface BuiltSea {
  binary: string;
  bytes: number;
  /** sha256 of bundle + assets + node version: the same inputs give the same key. */
  inputsKey: string;
  /** False when an up-to-date binary was already there. */
  built: boolean;
}

/** Where each asset comes from in a checkout. */
export function assetSources(): Record<keyof typeof ASSETS, string> {
  return {
    'weft_bpf.node': SOURCE_ARTIFACTS.addon,
    'pod_egress.o': SOURCE_ARTIFACTS.objects.podEgress,
    'pod_ingress.o': SOURCE_ARTIFACTS.objects.podIngress,
    'better_sqlite3.node': join(dirname(require.resolve('better-sqlite3/package.json')), 'build/Release/better_sqlite3.node'),
  };
}

/**
 * better-sqlite3 finds its addon with the `bindings` package, which searches node_modules; a SEA has
 * none. This stands in for it and loads the file assets.ts extracted (WEFT_SQLITE_ADDON).
 */
const seaModules: Plugin = {
  name: 'weft-sea-modules',
  setup(b) {
    b.onResolve({ filter: /^bindings$/ }, () => ({ path: 'bindings', namespace: 'weft-sea' }));
    // ws tries these optional native speed-ups inside try/catch; in a SEA the attempt prints a warning.
    b.onResolve({ filter: /^(bufferutil|utf-8-validate)$/ }, (a) => ({ path: a.path, namespace: 'weft-sea-absent' }));
    b.onLoad({ filter: /.*/, namespace: 'weft-sea-absent' }, (a) => ({
      loader: 'js',
      contents: `throw Object.assign(new Error('${a.path} is not bundled'), { code: 'MODULE_NOT_FOUND' });`,
    }));
    b.onLoad({ filter: /.*/, namespace: 'weft-sea' }, () => ({
      loader: 'js',
      contents: `module.exports = function bindings(name) {
  const file = process.env.WEFT_SQLITE_ADDON;
  if (!file) throw new Error('weft-agent: ' + name + ' was not extracted (WEFT_SQLITE_ADDON unset)');
  return require('node:module').createRequire(process.execPath)(file);
};`,
    }));
  },
};

async function bundle(outfile: string, version: string | undefined): Promise<void> {
  const r = await build({
    entryPoints: [join(repo, 'edge-agent/cli/main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    // A SEA's main script is CommonJS; import.meta.url is rebuilt from __filename (the binary itself).
    format: 'cjs',
    banner: { js: 'var __weftImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
    define: { 'import.meta.url': '__weftImportMetaUrl', ...(version ? { WEFT_RELEASE_VERSION: JSON.stringify(version) } : {}) },
    plugins: [seaModules],
    minify: true,
    keepNames: true,
    legalComments: 'none',
    logLevel: 'silent',
  });
  if (r.warnings.length)
    throw new AgentError(
      'BUILD_BUNDLE_WARNINGS',
      `esbuild warned: ${r.warnings.map((w) => `${w.location?.file ?? ''}:${w.location?.line ?? ''} ${w.text}`).join('; ')}`,
      'a warning in the bundle is a bug in the single binary: fix the import it names',
    );
}

function checkNode(): void {
  const [major, minor] = process.versions.node.split('.').map(Number);
  // SEA assets (sea.getAsset) arrived in Node 20.12.
  if (major < 20 || (major === 20 && minor < 12)) {
    throw new AgentError(
      'BUILD_NODE_TOO_OLD',
      `Node ${process.versions.node} cannot build a single executable with assets`,
      'use Node >= 20.12 (the binary is a copy of the node that builds it)',
    );
  }
  if (!readFileSync(process.execPath).includes(SEA_FUSE)) {
    throw new AgentError(
      'BUILD_NODE_NO_SEA',
      `${process.execPath} has no SEA fuse`,
      'use an official or distribution Node build with single executable application support',
    );
  }
}

/**
 * SEA options. No code cache: V8 rejects one made under other flags ("Code cache data rejected"), and the
 * agent runs --jitless (LEAN_NODE_OPTIONS); one made under --jitless is accepted but deserializes every
 * function eagerly: measured 55.0 MB idle vs 55.3 without, and 74.3 vs 62.7 MB with k3s (bench:agent).
 */
const SEA_OPTIONS = { disableExperimentalSEAWarning: true, useCodeCache: false, useSnapshot: false };

function inputsKey(script: Buffer, assets: Record<string, string>): string {
  const h = createHash('sha256').update(process.version).update(JSON.stringify(SEA_OPTIONS)).update(script);
  for (const [k, f] of Object.entries(assets)) h.update(k).update(readFileSync(f));
  return h.digest('hex');
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0)
    throw new AgentError(
      'BUILD_STEP_FAILED',
      `${args.slice(0, 2).join(' ')} failed (exit ${r.status ?? r.signal}): ${`${r.stdout}${r.stderr}`.trim().slice(-2000)}`,
    );
}

export async function buildSea(o: BuildSeaOptions = {}): Promise<BuiltSea> {
  const log = o.log ?? ((m: string) => process.stderr.write(`build:agent: ${m}\n`));
  const out = resolve(o.out ?? join(repo, 'dist/weft-agent'));
  checkNode();
  const assets = assetSources();
  const missing = Object.values(assets).filter((f) => !existsSync(f));
  if (missing.length)
    throw new AgentError('BUILD_ASSETS_MISSING', `missing: ${missing.join(', ')}`, 'run `npm run setup` (builds better-sqlite3) and `npm run build:bpf`');

  mkdirSync(dirname(out), { recursive: true });
  // Private work dir per build: two builds at once (parallel tests) never share temp files.
  const work = mkdtempSync(join(dirname(out), '.sea-'));
  try {
    const script = join(work, 'weft-agent.cjs');
    log('bundling edge-agent/cli/main.ts');
    await bundle(script, o.version);
    const key = inputsKey(readFileSync(script), assets);
    const stamp = `${out}.inputs`;
    if (existsSync(out) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === key) {
      log(`${out} is up to date`);
      return { binary: out, bytes: statSync(out).size, inputsKey: key, built: false };
    }
    const blob = join(work, 'sea.blob');
    // The content hash, made here once, so the binary need not read its assets to know it (assets.ts).
    const hashFile = join(work, ASSETS_HASH_KEY);
    writeFileSync(hashFile, `${assetsHash((k) => readFileSync(assets[k]))}\n`);
    const config = { main: script, output: blob, ...SEA_OPTIONS, assets: { ...assets, [ASSETS_HASH_KEY]: hashFile } };
    writeFileSync(join(work, 'sea-config.json'), JSON.stringify(config, null, 2));
    log('making the SEA blob');
    run(process.execPath, ['--experimental-sea-config', join(work, 'sea-config.json')]);
    const bin = join(work, 'weft-agent');
    copyFileSync(process.execPath, bin);
    chmodSync(bin, 0o755);
    log('injecting the blob into a copy of node');
    // postject's CLI in a child: its ELF library prints harmless section warnings we keep off the console.
    run(process.execPath, [require.resolve('postject/dist/cli.js'), bin, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE]);
    // Rename over: a reader (the image build) sees the old binary or the new one, never half of one.
    renameSync(bin, out);
    writeFileSync(stamp, `${key}\n`);
    return { binary: out, bytes: statSync(out).size, inputsKey: key, built: true };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === `file://${process.argv[1]}`) {
  const argv = process.argv.slice(2);
  const i = argv.indexOf('--out');
  buildSea({ out: i >= 0 ? argv[i + 1] : undefined }).then(
    (r) => process.stdout.write(`${r.binary} (${(r.bytes / 2 ** 20).toFixed(1)} MiB${r.built ? '' : ', unchanged'})\n`),
    (e: unknown) => {
      process.stderr.write(`build:agent: ${formatError(e)}\n`);
      process.exit(e instanceof AgentError ? 2 : 1);
    },
  );
}
