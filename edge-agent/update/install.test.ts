// An agent-only update on a real folder and a real HTTP server: refused before anything is written
// (tampered, unknown key), resumed with a Range request after a broken link, switched with one rename,
// then blessed or rolled back by the watcher. The agent's status is a fake here; the kernel test
// (update.kernel.test.ts) runs real binaries.
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyIdOf } from '../../base/index.ts';
import { signRelease, type ReleaseManifest } from '../../protocol/index.ts';
import type { AgentStatus } from '../status-types.ts';
import { installUpdate, type InstallDeps } from './install.ts';
import { Slots } from './slots.ts';
import { watchUpdate } from './watch.ts';

const key = generateKeyPairSync('ed25519').privateKey;
const trusted = new Map([[keyIdOf(createPublicKey(key)), createPublicKey(key)]]);
const binary = Buffer.alloc(2_000_000, 0x5a);
binary.write('#!/bin/sh\necho 0.2.0\n');
const manifest: ReleaseManifest = {
  kind: 'agent',
  version: '0.2.0',
  file: 'weft-agent-0.2.0',
  sha256: createHash('sha256').update(binary).digest('hex'),
  size: binary.length,
  minHubVersion: '0.1.0',
  issuedAt: '2026-12-07T00:00:00Z',
};

let server: Server;
let url = '';
const ranges: (string | undefined)[] = [];
/** Bytes the next response sends before it breaks the connection (Infinity: all). */
let breakAfter = Number.POSITIVE_INFINITY;

beforeAll(async () => {
  server = createServer((req, res) => {
    ranges.push(req.headers.range);
    const from = req.headers.range ? Number(/bytes=(\d+)-/.exec(req.headers.range)?.[1]) : 0;
    const body = binary.subarray(from);
    res.writeHead(from ? 206 : 200, { 'content-length': body.length });
    if (breakAfter < body.length) {
      res.write(body.subarray(0, breakAfter), () => res.destroy());
      breakAfter = Number.POSITIVE_INFINITY;
    } else res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/releases/0.2.0/agent`;
});
afterAll(() => server.close());

function folder(): Slots {
  const dir = mkdtempSync(join(tmpdir(), 'weft-update-'));
  writeFileSync(join(dir, 'weft-agent-0.1.0'), 'old', { mode: 0o755 });
  symlinkSync('weft-agent-0.1.0', join(dir, 'current'));
  symlinkSync('weft-agent-0.1.0', join(dir, 'good'));
  return new Slots(dir);
}

const oldStatus = {
  version: '0.1.0',
  enforcing: true,
  datapath: { kernelEnforcing: true, appliedGeneration: 4, notEnforcing: null },
  pods: { attached: 2 },
  hub: { link: null },
  tunnel: null,
} as unknown as AgentStatus;

function deps(slots: Slots, calls: string[]): InstallDeps {
  return {
    slots,
    trustedKeys: trusted,
    installed: '0.1.0',
    status: async () => oldStatus,
    spawnWatcher: () => calls.push('watch'),
    restart: async () => void calls.push('restart'),
    now: () => 1000,
  };
}

describe('agent-only update', () => {
  it('refuses a tampered or foreign release before writing anything', async () => {
    const slots = folder();
    const signed = signRelease(manifest, key);
    const tampered = { ...signed, payload: signed.payload.replace(manifest.sha256, manifest.sha256.replace(/^./, '0')) };
    await expect(installUpdate(deps(slots, []), { release: tampered, url, rolloutId: 1 })).rejects.toMatchObject({ code: 'RELEASE_BAD_SIGNATURE' });
    const foreign = signRelease(manifest, generateKeyPairSync('ed25519').privateKey);
    await expect(installUpdate(deps(slots, []), { release: foreign, url, rolloutId: 1 })).rejects.toMatchObject({ code: 'RELEASE_UNKNOWN_KEY' });
    expect(readdirSync(slots.dir).sort()).toEqual(['current', 'good', 'weft-agent-0.1.0']);
    expect(ranges).toEqual([]);
    rmSync(slots.dir, { recursive: true });
  });

  it('refuses bytes that do not match the manifest, and keeps nothing of them', async () => {
    const slots = folder();
    const other = signRelease({ ...manifest, sha256: 'f'.repeat(64) }, key);
    await expect(installUpdate(deps(slots, []), { release: other, url, rolloutId: 1 })).rejects.toMatchObject({ code: 'RELEASE_HASH_MISMATCH' });
    expect(readdirSync(slots.dir).sort()).toEqual(['current', 'good', 'weft-agent-0.1.0']);
    expect(slots.target('current')).toBe('weft-agent-0.1.0');
    rmSync(slots.dir, { recursive: true });
  });

  it('resumes a broken download with a Range request, then switches, watches and restarts', async () => {
    const slots = folder();
    const calls: string[] = [];
    ranges.length = 0;
    breakAfter = 700_000;
    await expect(installUpdate(deps(slots, calls), { release: signRelease(manifest, key), url, rolloutId: 9 })).rejects.toMatchObject({
      code: 'UPDATE_DOWNLOAD_FAILED',
    });
    const part = statSync(slots.path('weft-agent-0.2.0.part')).size;
    expect(part).toBeGreaterThan(0);
    expect(slots.target('current')).toBe('weft-agent-0.1.0');
    await installUpdate(deps(slots, calls), { release: signRelease(manifest, key), url, rolloutId: 9, deadlineMs: 5000 });
    expect(ranges).toEqual([undefined, `bytes=${part}-`]);
    expect(readFileSync(slots.path('weft-agent-0.2.0')).equals(binary)).toBe(true);
    expect(statSync(slots.path('weft-agent-0.2.0')).mode & 0o777).toBe(0o755);
    expect(slots.target('current')).toBe('weft-agent-0.2.0');
    expect(slots.pending()).toMatchObject({
      from: '0.1.0',
      to: '0.2.0',
      fromFile: 'weft-agent-0.1.0',
      rolloutId: 9,
      baseline: { generation: 4, podsAttached: 2 },
    });
    expect(calls).toEqual(['watch', 'restart']);

    // The new agent comes up as healthy as the old one: blessed; `previous` kept for a rollback by hand.
    let t = 0;
    const healthy = { ...oldStatus, version: '0.2.0' } as AgentStatus;
    const out = await watchUpdate({
      slots,
      status: async () => (t > 2 ? healthy : null),
      now: () => (t += 1),
      sleep: async () => undefined,
      restart: async () => undefined,
    });
    expect(out.kind).toBe('blessed');
    expect([slots.target('current'), slots.target('good'), slots.target('previous')]).toEqual(['weft-agent-0.2.0', 'weft-agent-0.2.0', 'weft-agent-0.1.0']);
    expect(slots.pending()).toBeNull();
    expect(slots.lastResult()).toMatchObject({ version: '0.2.0', state: 'blessed', rolloutId: 9 });
    rmSync(slots.dir, { recursive: true });
  });

  it('rolls back to the old binary when the new one never enforces, with the reason', async () => {
    const slots = folder();
    const calls: string[] = [];
    await installUpdate(deps(slots, calls), { release: signRelease(manifest, key), url, rolloutId: 3, deadlineMs: 1000 });
    let t = 0;
    const broken = { ...oldStatus, version: '0.2.0', enforcing: false, datapath: { ...oldStatus.datapath, kernelEnforcing: false } } as AgentStatus;
    const out = await watchUpdate({
      slots,
      status: async () => broken,
      now: () => (t += 100),
      sleep: async () => undefined,
      restart: async () => void calls.push('restart after rollback'),
    });
    expect(out).toMatchObject({ kind: 'rolled-back' });
    expect(slots.target('current')).toBe('weft-agent-0.1.0');
    expect(slots.target('good')).toBe('weft-agent-0.1.0');
    expect(slots.lastResult()).toMatchObject({
      state: 'rolled-back',
      code: 'UPDATE_HEALTH_GATE',
      reason: expect.stringContaining('enforcing: not enforcing in the kernel'),
    });
    expect(calls).toEqual(['watch', 'restart', 'restart after rollback']);
    rmSync(slots.dir, { recursive: true });
  });
});
