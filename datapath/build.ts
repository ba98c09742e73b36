// Builds the datapath: bpf/*.bpf.c -> build/bpf/*.o (clang -target bpf against the running
// kernel's BTF), and the libbpf N-API addon with node-gyp. Incremental: scripts/setup.mjs runs
// this before every `npm test` and `npm start`, and it does nothing when outputs are newer than inputs.
import { errorMessage } from '../base/index.ts';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SOURCE_ARTIFACTS } from './artifacts.ts';

const here = dirname(fileURLToPath(import.meta.url));
/** The BPF C sources: bpf/ holds only C; this TypeScript side builds it. */
const bpfDir = join(here, '..', 'bpf');
const out = SOURCE_ARTIFACTS.objectDir;

const mtime = (f: string) => (existsSync(f) ? statSync(f).mtimeMs : 0);
const newest = (files: string[]) => Math.max(...files.map(mtime));
const log = (m: string) => process.stderr.write(`datapath/build: ${m}\n`);

function run(cmd: string, args: string[], cwd = here): void {
  const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (r.error) throw new Error(`${cmd}: ${r.error.message} (install it: see scripts/setup.mjs)`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stdout}${r.stderr}`);
}

/** vmlinux.h of the running kernel; regenerated when the kernel changes. */
function vmlinuxHeader(): string {
  const header = join(out, 'vmlinux.h');
  const stamp = join(out, 'vmlinux.kernel');
  if (existsSync(header) && existsSync(stamp) && readFileSync(stamp, 'utf8') === release()) return header;
  if (!existsSync('/sys/kernel/btf/vmlinux')) throw new Error('kernel BTF missing (/sys/kernel/btf/vmlinux): use a kernel built with CONFIG_DEBUG_INFO_BTF=y');
  log('generating vmlinux.h from the kernel BTF');
  const text = execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], { maxBuffer: 256 << 20 });
  writeFileSync(header, text);
  writeFileSync(stamp, release());
  return header;
}

function objects(): void {
  const sources = readdirSync(bpfDir).filter((f) => f.endsWith('.bpf.c'));
  const headers = readdirSync(join(bpfDir, 'lib')).map((f) => join(bpfDir, 'lib', f));
  const header = vmlinuxHeader();
  for (const src of sources) {
    const obj = join(out, src.replace(/\.bpf\.c$/, '.o'));
    if (mtime(obj) > newest([join(bpfDir, src), header, ...headers])) continue;
    log(`clang ${src}`);
    run('clang', ['-target', 'bpf', '-O2', '-g', '-D__TARGET_ARCH_x86', '-Wall', '-Werror', `-I${out}`, '-c', src, '-o', obj], bpfDir);
  }
}

/** npm's own node-gyp (no download): node_modules/.bin first, then the one bundled with npm. */
function nodeGyp(): string[] {
  const local = join(here, '..', 'node_modules', '.bin', 'node-gyp');
  if (existsSync(local)) return [local];
  const candidates = [
    process.env.npm_execpath ? join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js') : '',
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
    '/usr/share/nodejs/node-gyp/bin/node-gyp.js',
  ];
  const found = candidates.find((c) => c && existsSync(c));
  if (!found) throw new Error('node-gyp not found: it ships with npm (npm/node_modules/node-gyp)');
  return [process.execPath, found];
}

function addon(): void {
  const dir = join(here, 'addon');
  const inputs = readdirSync(dir)
    .filter((f) => /\.(cc|h|gyp)$/.test(f))
    .map((f) => join(dir, f));
  if (mtime(SOURCE_ARTIFACTS.addon) > newest(inputs)) return;
  log('building the libbpf addon (node-gyp)');
  const [cmd, ...pre] = nodeGyp();
  // Node's headers come with the Debian/NodeSource package under /usr/include/node: no download.
  const nodedir = existsSync(join(dirname(process.execPath), '..', 'include', 'node', 'node_api.h')) ? join(dirname(process.execPath), '..') : '/usr';
  run(cmd, [...pre, 'rebuild', `--nodedir=${nodedir}`], dir);
}

try {
  mkdirSync(out, { recursive: true });
  objects();
  addon();
} catch (e) {
  log(errorMessage(e));
  process.exit(1);
}
