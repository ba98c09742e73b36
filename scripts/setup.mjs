#!/usr/bin/env node
// Installs what a fresh Debian machine is missing, idempotently and quietly when nothing is:
// npm dependencies, the Debian packages the project needs (as root, through apt-get),
// then the compiled artifacts (BPF objects and the libbpf addon).
// Plain Node with no dependencies: it runs before node_modules exists.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

// What tests, the demo and the benchmarks run. One list, so a new machine gets all of it.
export const DEBIAN_PACKAGES = [
  'clang',
  'llvm',
  'libbpf-dev',
  'bpftool',
  'libelf-dev',
  'zlib1g-dev',
  'pkg-config',
  'make',
  'g++',
  'python3',
  'iproute2',
  'procps',
  'openssl',
  'e2fsprogs',
  'ethtool',
  'socat',
  'netcat-openbsd',
  'curl',
  'wireguard-go',
  'wireguard-tools',
  'mosquitto',
  'mosquitto-clients',
  'nats-server',
  'iperf3',
  'sockperf',
  'dnsperf',
  'bind9-dnsutils',
  'iptables',
  'nftables',
  'pdns-server',
  'pdns-backend-bind',
  'pdns-backend-geoip',
  'knot',
  'qemu-system-x86',
  'qemu-utils',
  'debootstrap',
  'mtools',
  'dosfstools',
  'systemd-boot-efi',
  'ovmf',
  'fdisk',
  'chromium',
  // The hub's store past one machine (PostgreSQL 15); tests run a throwaway cluster of their own with
  // its initdb/pg_ctl, never the system cluster this package also sets up.
  'postgresql',
];

function log(msg) {
  process.stderr.write(`setup: ${msg}\n`);
}

function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { cwd: root, stdio: opts.quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit', env: { ...process.env, ...opts.env } });
  if (r.status !== 0) {
    if (opts.quiet) process.stderr.write(`${r.stdout ?? ''}${r.stderr ?? ''}`);
    throw new Error(`${cmd} ${argv.join(' ')} failed with exit ${r.status}`);
  }
}

function npmDeps() {
  const stamp = join(root, 'node_modules', '.package-lock.json');
  const lock = join(root, 'package-lock.json');
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= statSync(lock).mtimeMs) return;
  log('installing npm dependencies (npm ci)');
  run('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error']);
}

function missingPackages() {
  let out = '';
  try {
    out = execFileSync('dpkg-query', ['-W', '-f=${Package} ${db:Status-Status}\n', ...DEBIAN_PACKAGES], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch (e) {
    out = e.stdout ?? ''; // dpkg-query exits 1 when some package is unknown; its stdout still lists the rest
  }
  const installed = new Set(
    out
      .split('\n')
      .filter((l) => l.endsWith(' installed'))
      .map((l) => l.split(' ')[0]),
  );
  return DEBIAN_PACKAGES.filter((p) => !installed.has(p));
}

function debianPackages() {
  if (!existsSync('/usr/bin/dpkg-query')) {
    log('not a Debian machine: install the packages listed in scripts/setup.mjs yourself');
    return;
  }
  const missing = missingPackages();
  if (missing.length === 0) return;
  if (!isRoot) {
    log(`missing Debian packages (run as root to install them): ${missing.join(' ')}`);
    log('tests that need them will say so and skip');
    return;
  }
  log(`installing Debian packages: ${missing.join(' ')}`);
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { quiet: true, env });
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { quiet: true, env });
}

function artifacts() {
  // Each part that compiles something owns a build script; setup only calls it.
  for (const script of ['datapath/build.ts', 'hub/ui/build.ts']) {
    if (existsSync(join(root, script))) run(process.execPath, [join(root, 'bin', 'run.mjs'), script]);
  }
}

try {
  if (!only || only === 'npm') npmDeps();
  if (!only || only === 'apt') debianPackages();
  if (!only || only === 'bpf') artifacts();
} catch (err) {
  log(err instanceof Error ? err.message : String(err));
  process.exit(1);
}
