// Agent-only updates with the real single binaries, for real: a supervisor that does what the systemd
// unit does (ExecStartPre=<image binary> update guard, ExecStart=<dir>/current run, Restart=always)
// runs the agent on a real pin root; `weft-agent update apply` switches it to a new version whose
// "restart" is kill -9 of the running agent (the harshest restart there is), and the new agent is also
// killed -9 during its first start. Meanwhile the test polls the pinned kernel state and records the
// longest time it was not enforcing the last-known-good generation. A version whose agent never
// answers is rolled back by the watcher to the previous binary, with the reason recorded.
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as netServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyIdOf, signKeySet, waitFor } from '../../base/index.ts';
import { layout as L } from '../../datapath/index.ts';
import { kernelSkipReason, uniquePinRoot } from '../../datapath/testing/index.ts';
import { openStore } from '../../offline-store/index.ts';
import { RELEASE_KEY_SET_CONTEXT, signRelease, type ReleaseManifest } from '../../protocol/index.ts';
import { buildSea } from '../packaging/build-sea.ts';
import { bundle, enrollStore, hubKey } from '../testing/fixtures.ts';
import { AGENT_VERSION } from '../version.ts';

const work = mkdtempSync(join(tmpdir(), 'weft-agent-update-'));
const pinRoot = uniquePinRoot().replace('weft-test-', 'wag-upd-');
const dataDir = join(work, 'data');
const updateDir = join(dataDir, 'agent');
const LKG = 3;
const V2 = bump(AGENT_VERSION, 1);
const V3 = bump(AGENT_VERSION, 2);
const releaseKey = generateKeyPairSync('ed25519').privateKey;
let server: Server | undefined;
let base = '';
let statusPort = 0;
let image = '';
let supervisor: Supervisor | undefined;

function bump(v: string, n: number): string {
  const [a, b, c] = v.split('.').map(Number);
  return `${a}.${b}.${c + 100 + n}`;
}

async function freePort(): Promise<number> {
  const s = netServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Serves the release folder with Range support, as the hub's release store does. */
function serve(dir: string): Promise<string> {
  server = createServer((req, res) => {
    const file = join(dir, (req.url ?? '').replace(/^\//, ''));
    if (!existsSync(file)) return void res.writeHead(404).end();
    const all = readFileSync(file);
    const from = req.headers.range ? Number(/bytes=(\d+)-/.exec(req.headers.range)?.[1]) : 0;
    res.writeHead(from ? 206 : 200, { 'content-length': all.length - from }).end(all.subarray(from));
  });
  return new Promise((r) => server!.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(server!.address() as AddressInfo).port}`)));
}

function release(file: string, version: string, key = releaseKey): string {
  const bytes = readFileSync(file);
  const m: ReleaseManifest = {
    kind: 'agent',
    version,
    file: `weft-agent-${version}`,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    size: bytes.length,
    minHubVersion: '0.1.0',
    issuedAt: new Date().toISOString(),
  };
  const path = join(work, 'releases', `weft-agent-${version}.release.json`);
  writeFileSync(path, JSON.stringify(signRelease(m, key)));
  return path;
}

const common = () => [
  '--data-dir',
  dataDir,
  '--pin-root',
  pinRoot,
  '--status-port',
  String(statusPort),
  '--tunnel',
  'off',
  '--kube',
  'off',
  '--log-level',
  'warn',
];
const updateFlags = () => [
  '--update-dir',
  updateDir,
  '--release-keys',
  join(work, 'release-keys.json'),
  // What systemd's restart is, at its harshest: the running agent is killed -9, the supervisor starts `current`.
  '--restart-cmd',
  `kill -KILL $(cat ${join(work, 'agent.pid')})`,
];

/** What the systemd unit does: guard from the image's binary, then `current run`, restarted when it exits. */
class Supervisor {
  private stopped = false;
  child: ChildProcess | null = null;
  starts = 0;
  readonly done: Promise<void>;
  constructor() {
    this.done = this.loop();
  }
  private async loop(): Promise<void> {
    while (!this.stopped) {
      const g = spawnSync(image, ['update', 'guard', ...common(), ...updateFlags()], { encoding: 'utf8' });
      if (g.status !== 0) throw new Error(`guard failed: ${g.stderr}`);
      const c = spawn(join(updateDir, 'current'), ['run', ...common()], { stdio: 'ignore' });
      this.child = c;
      this.starts++;
      writeFileSync(join(work, 'agent.pid'), String(c.pid));
      await new Promise<void>((r) => c.once('exit', () => r()));
      if (!this.stopped) await new Promise((r) => setTimeout(r, 100)); // RestartSec
    }
  }
  async stop(): Promise<void> {
    this.stopped = true;
    this.child?.kill('SIGTERM');
    await this.done;
  }
}

type Status = { version: string; enforcing: boolean; datapath: { kernelEnforcing: boolean; appliedGeneration: number } };
async function status(): Promise<Status | null> {
  try {
    const r = await fetch(`http://127.0.0.1:${statusPort}/status`, { signal: AbortSignal.timeout(1000) });
    return (await r.json()) as Status;
  } catch {
    return null;
  }
}

/** The generation the pinned switch word names (0 when none): what the kernel enforces, agent or not. */
function kernelGeneration(): number {
  const dirs = existsSync(pinRoot) ? readdirSync(pinRoot).filter((d) => d.startsWith('layout-')) : [];
  if (dirs.length !== 1) return 0;
  const r = spawnSync('bpftool', ['-j', 'map', 'dump', 'pinned', join(pinRoot, dirs[0], 'weft_state')], { encoding: 'utf8' });
  if (r.status !== 0) return 0;
  const [st] = JSON.parse(r.stdout) as { value: string[] }[];
  return st ? L.decState(Buffer.from(st.value.map((b) => Number.parseInt(b, 16)))).generation : 0;
}

/** Polls the kernel state until stopped; the longest stretch not enforcing the LKG, bounded by the samples around it. */
function monitor(): { stop: () => Promise<{ samples: number; notOk: number; longestGapMs: number; maxSampleMs: number }> } {
  let running = true;
  const run = (async () => {
    let samples = 0;
    let notOk = 0;
    let lastOk = performance.now();
    let failing = false;
    let longestGapMs = 0;
    let maxSampleMs = 0;
    let prev = performance.now();
    while (running) {
      const ok = kernelGeneration() >= LKG;
      const t = performance.now();
      samples++;
      maxSampleMs = Math.max(maxSampleMs, t - prev);
      prev = t;
      if (!ok) {
        notOk++;
        failing = true;
      } else {
        // A stretch not enforcing ends: it lasted at most from the last good sample to this one.
        if (failing) longestGapMs = Math.max(longestGapMs, t - lastOk);
        failing = false;
        lastOk = t;
      }
      await new Promise((r) => setImmediate(r));
    }
    return { samples, notOk, longestGapMs, maxSampleMs };
  })();
  return {
    stop: async () => {
      running = false;
      return run;
    },
  };
}

const lastUpdate = () =>
  JSON.parse(readFileSync(join(updateDir, 'last-update.json'), 'utf8')) as { state: string; version: string; reason?: string; code?: string };

beforeAll(async () => {
  if (kernelSkipReason) return;
  mkdirSync(join(work, 'releases'), { recursive: true });
  mkdirSync(dataDir, { recursive: true });
  statusPort = await freePort();
  // The image's binary (version of package.json) and the release V2, both real single binaries.
  image = (await buildSea({ out: join(work, 'image', 'weft-agent'), log: () => undefined })).binary;
  await buildSea({ out: join(work, 'releases', `weft-agent-${V2}`), version: V2, log: () => undefined });
  // V3 never comes up: a binary that starts and never answers (a hang at start, the worst case for a gate).
  writeFileSync(join(work, 'releases', `weft-agent-${V3}`), '#!/bin/sh\nexec sleep 600\n');
  chmodSync(join(work, 'releases', `weft-agent-${V3}`), 0o755);
  base = await serve(join(work, 'releases'));
  writeFileSync(
    join(work, 'release-keys.json'),
    JSON.stringify(
      signKeySet(
        {
          version: 1,
          issuedAt: new Date().toISOString(),
          keys: [
            { keyId: keyIdOf(createPublicKey(releaseKey)), publicKey: createPublicKey(releaseKey).export({ format: 'der', type: 'spki' }).toString('base64') },
          ],
        },
        releaseKey,
        RELEASE_KEY_SET_CONTEXT,
      ),
    ),
  );
  // An enrolled site whose last-known-good is generation 3, its hub out of reach: the agent runs offline.
  const key = hubKey();
  const store = openStore(join(dataDir, 'agent.db'));
  enrollStore(store, key, 'mqtt://127.0.0.1:9');
  store.bundles.setLastKnownGood(store.bundles.recordReceived(bundle(key, LKG), LKG).id);
  store.close();
  supervisor = new Supervisor();
  await waitFor(async () => (await status())?.datapath.appliedGeneration === LKG, { what: 'the image agent enforcing the last-known-good', timeoutMs: 90_000 });
}, 300_000);

afterAll(async () => {
  await supervisor?.stop();
  server?.close();
  rmSync(pinRoot, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
}, 60_000);

describe.skipIf(kernelSkipReason)('agent-only update, real binaries', () => {
  // Async: the test process also serves the artifact, so it must not block while apply downloads it.
  const apply = (file: string, version: string, deadlineS: number): Promise<{ status: number | null; stderr: string }> =>
    new Promise((resolve) => {
      const c = spawn(
        image,
        ['update', 'apply', '--release', file, '--url', `${base}/weft-agent-${version}`, '--deadline-s', String(deadlineS), ...common(), ...updateFlags()],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let stderr = '';
      c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      c.on('close', (status) => resolve({ status, stderr }));
    });

  it('refuses a release signed by an unknown key, and one whose bytes were changed, before writing', async () => {
    const stranger = generateKeyPairSync('ed25519').privateKey;
    const foreign = await apply(release(join(work, 'releases', `weft-agent-${V2}`), V2, stranger), V2, 60);
    expect(foreign.status).toBe(1);
    expect(foreign.stderr).toContain('RELEASE_UNKNOWN_KEY');
    const good = JSON.parse(readFileSync(release(join(work, 'releases', `weft-agent-${V2}`), V2), 'utf8'));
    const tamperedPath = join(work, 'tampered.release.json');
    writeFileSync(tamperedPath, JSON.stringify({ ...good, payload: good.payload.replace(/"size":(\d)/, '"size":9') }));
    const tampered = await apply(tamperedPath, V2, 60);
    expect(tampered.stderr).toContain('RELEASE_BAD_SIGNATURE');
    expect(readdirSync(updateDir).filter((f) => f.startsWith('weft-agent-'))).toEqual([]);
    // Recorded for the hub (the running agent reports it as an 'update' event).
    expect(lastUpdate()).toMatchObject({ state: 'refused', version: V2, code: 'RELEASE_BAD_SIGNATURE' });
  });

  it(`switches ${AGENT_VERSION} -> ${V2} with kill -9 as its restart and again during the first start: blessed, enforcing throughout`, async () => {
    const mon = monitor();
    const t0 = performance.now();
    const startsBefore = supervisor!.starts;
    const r = await apply(release(join(work, 'releases', `weft-agent-${V2}`), V2), V2, 60);
    expect(r.status, r.stderr).toBe(0);
    // Kill -9 the new agent during its first start: the guard counts a second try, the watcher goes on judging.
    await waitFor(() => supervisor!.starts > startsBefore, { what: 'the new agent started', timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 300));
    supervisor!.child?.kill('SIGKILL');
    await waitFor(() => lastUpdate().version === V2 && lastUpdate().state !== 'refused', { what: 'the update to end', timeoutMs: 120_000 });
    const blessedS = (performance.now() - t0) / 1000;
    const gap = await mon.stop();
    expect(lastUpdate()).toMatchObject({ state: 'blessed', version: V2 });
    await waitFor(async () => (await status())?.version === V2, { what: 'V2 answering', timeoutMs: 30_000 });
    expect((await status())?.datapath).toMatchObject({ kernelEnforcing: true, appliedGeneration: LKG });
    expect(gap.notOk).toBe(0);
    writeFileSync(join(work, 'swap.json'), JSON.stringify({ blessedS, ...gap }));
    console.log(
      `agent swap: blessed in ${blessedS.toFixed(1)} s; kernel never left generation ${LKG} (${gap.samples} samples, widest ${gap.maxSampleMs.toFixed(1)} ms)`,
    );
  }, 180_000);

  it(`rolls ${V2} -> ${V3} (never answers) back to ${V2} by itself, with the reason, enforcing throughout`, async () => {
    const mon = monitor();
    const t0 = performance.now();
    const r = await apply(release(join(work, 'releases', `weft-agent-${V3}`), V3), V3, 8);
    expect(r.status, r.stderr).toBe(0);
    await waitFor(() => lastUpdate().version === V3, { what: 'the update to end', timeoutMs: 120_000 });
    expect(lastUpdate()).toMatchObject({ state: 'rolled-back', code: 'UPDATE_HEALTH_GATE', reason: expect.stringContaining('does not answer') });
    await waitFor(async () => (await status())?.version === V2, { what: `${V2} answering again`, timeoutMs: 60_000 });
    const rollbackS = (performance.now() - t0) / 1000;
    const gap = await mon.stop();
    expect(gap.notOk).toBe(0);
    writeFileSync(join(work, 'rollback.json'), JSON.stringify({ rollbackS, ...gap }));
    console.log(`agent rollback: ${V2} answering again ${rollbackS.toFixed(1)} s after the switch (deadline 8 s)`);
  }, 180_000);
});
