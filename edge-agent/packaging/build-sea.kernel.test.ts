// The single binary, run for real: built from this checkout, copied out of it, started with no
// network at all (its own network namespace) from a store holding a signed bundle, and enforcing
// that bundle with the real BPF datapath loaded from the assets it extracted itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pkg from '../../package.json' with { type: 'json' };
import { openStore } from '../../offline-store/index.ts';
import { bundle, enrollStore, hubKey } from '../testing/fixtures.ts';
import { waitFor } from '../../base/index.ts';
import { assetSources, buildSea } from './build-sea.ts';
import { ASSETS, assetsHash } from './assets.ts';

const isRoot = process.getuid?.() === 0;
const hasUnshare = spawnSync('unshare', ['--version']).status === 0;
const canRun = isRoot && hasUnshare && existsSync('/sys/fs/bpf');
if (!canRun) console.warn(`build-sea.kernel.test: skipping the offline start (needs root, unshare and bpffs; root=${isRoot} unshare=${hasUnshare})`);

let dir: string;
let bin: string;
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wimg-sea-'));
  const built = await buildSea({ log: () => undefined });
  // Copied out of the checkout: the binary must not reach back into node_modules or build/.
  bin = join(dir, 'weft-agent');
  copyFileSync(built.binary, bin);
}, 240_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(bin, args, { cwd: '/', encoding: 'utf8', env: { PATH: process.env.PATH, ...env }, timeout: 60_000 });

describe('dist/weft-agent (single executable)', () => {
  it('prints its version and usage', () => {
    const v = run(['--version']);
    expect(v.status).toBe(0);
    expect(v.stdout.trim()).toBe(pkg.version);
    expect(v.stderr).not.toMatch(/ExperimentalWarning|single executable/i);
    const bad = run(['frobnicate', '--data-dir', join(dir, 'x')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown command frobnicate \(USAGE\)/);
  });

  it('`status` with no agent running reads the store and says how to start it (exit 1)', () => {
    const data = mkdtempSync(join(dir, 'status-'));
    const key = hubKey();
    const s = openStore(join(data, 'agent.db'));
    enrollStore(s, key, 'mqtt://127.0.0.1:9');
    s.close();
    const r = run(['status', '--data-dir', data]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/agent: +not running/);
    expect(r.stdout).toMatch(/site: +store-042 \(enrolled\)/);
    // The store was opened by better-sqlite3 loaded from the extracted asset.
    const j = JSON.parse(run(['status', '--json', '--data-dir', data]).stdout) as { running: boolean; offline: { enrolled: boolean } };
    expect(j).toMatchObject({ running: false, offline: { enrolled: true } });
  });

  it.runIf(canRun)(
    'starts offline, with no network at all, to enforcing its last-known-good through real BPF',
    async () => {
      const data = mkdtempSync(join(dir, 'run-'));
      const pinRoot = `/sys/fs/bpf/wimg-sea-${process.pid}`;
      const key = hubKey();
      const s = openStore(join(data, 'agent.db'));
      enrollStore(s, key, 'mqtt://127.0.0.1:9'); // the hub broker: nothing listens, and the namespace has no route anyway
      s.bundles.setLastKnownGood(s.bundles.recordReceived(bundle(key, 7), 7).id);
      s.close();
      const args = [
        'run',
        '--data-dir',
        data,
        '--datapath',
        'libbpf',
        '--pin-root',
        pinRoot,
        '--tunnel',
        'off',
        '--kube',
        'off',
        '--status-port',
        '0',
        '--provision-file',
        join(data, 'none.json'),
        '--log-level',
        'info',
      ];
      // A fresh network namespace with only loopback up: no uplink, no DNS, no hub.
      const agent: ChildProcess = spawn('unshare', ['--net', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', bin, ...args], {
        cwd: '/',
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: process.env.PATH },
      });
      let log = '';
      agent.stdout!.on('data', (b: Buffer) => (log += b));
      agent.stderr!.on('data', (b: Buffer) => (log += b));
      try {
        const state = () => (existsSync(join(data, 'state')) ? readFileSync(join(data, 'state'), 'utf8') : '');
        await waitFor(() => /^enforcing generation 7/.test(state()) || agent.exitCode !== null, { timeoutMs: 60_000, what: 'enforcing generation 7' }).catch(
          (e: Error) => {
            throw new Error(`${e.message}\nagent output:\n${log.slice(-3000)}`);
          },
        );
        expect(agent.exitCode, log.slice(-3000)).toBeNull();
        await waitFor(() => existsSync(join(data, 'status-port')), { timeoutMs: 30_000, what: 'status API port' });
        const st = spawnSync('nsenter', [`--net=/proc/${agent.pid}/ns/net`, bin, 'status', '--json', '--data-dir', data], { encoding: 'utf8', cwd: '/' });
        expect(st.status, st.stdout + st.stderr).toBe(0);
        const r = JSON.parse(st.stdout) as {
          running: boolean;
          status: {
            enforcing: boolean;
            datapath: { kind: string; appliedGeneration: number; timeToEnforcingS: number };
            hub: { link: { state: string } | null };
          };
        };
        expect(r.running).toBe(true);
        expect(r.status.enforcing).toBe(true);
        expect(r.status.datapath).toMatchObject({ kind: 'libbpf', appliedGeneration: 7 });
        expect(r.status.hub.link?.state).not.toBe('connected');
        expect(readdirSync(pinRoot).length).toBeGreaterThan(0); // pinned maps: the kernel holds generation 7

        // The assets: one content-hashed directory under a root-owned 0700 one, byte-identical to the sources.
        const assetDir = join(data, 'assets');
        expect(statSync(assetDir).mode & 0o777).toBe(0o700);
        expect(statSync(assetDir).uid).toBe(0);
        const [hashed, ...rest] = readdirSync(assetDir);
        expect(rest).toEqual([]);
        const src = assetSources();
        // Named by the hash the build embedded (the same function over the sources), not one made at start.
        expect(hashed).toBe(assetsHash((k) => readFileSync(src[k])).slice(0, 16));
        for (const [k, name] of Object.entries(ASSETS)) expect(sha(join(assetDir, hashed, name)), k).toBe(sha(src[k as keyof typeof ASSETS]));
      } finally {
        agent.kill('SIGTERM');
        if (agent.exitCode === null) await new Promise((r) => agent.once('exit', r));
        execFileSync('rm', ['-rf', pinRoot]);
      }
      expect(agent.exitCode).toBe(0);
    },
    120_000,
  );
});
