// `weft release upload|list` and `weft update rollout|status|fleet` against a real hub over HTTPS,
// with release files as `npm run build:release` writes them and simulated sites that bless the update.
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRelease } from '../../protocol/index.ts';
import { fleet } from '../testing/fleet.ts';
import { startTestHub, type TestHub } from '../testing/hub-fixture.ts';
import { eventually, type SimAgent } from '../testing/sim-agent.ts';
import { weftIn } from './testing/run-weft.ts';

let t: TestHub;
let agents: Map<string, SimAgent>;
const home = mkdtempSync(join(tmpdir(), 'weft-cli-upd-'));
const rel = join(home, 'release', '0.4.0');

beforeAll(async () => {
  t = await startTestHub();
  agents = await fleet(
    t,
    ['cli-1', 'cli-2'],
    () => ({}),
    () => ({ update: () => ({ state: 'blessed' }) }),
  );
  // A release folder as build:release leaves it.
  const bytes = Buffer.alloc(30_000, 4);
  mkdirSync(rel, { recursive: true });
  writeFileSync(join(rel, 'weft-agent-0.4.0'), bytes);
  const m = {
    kind: 'agent' as const,
    version: '0.4.0',
    file: 'weft-agent-0.4.0',
    sha256: createHash('sha256').update(bytes).digest('hex'),
    size: bytes.length,
    minHubVersion: '0.1.0',
    issuedAt: '2026-12-07T00:00:00Z',
  };
  writeFileSync(join(rel, 'weft-agent-0.4.0.release.json'), JSON.stringify(signRelease(m, generateKeyPairSync('ed25519').privateKey)));
});
afterAll(async () => {
  for (const a of agents?.values() ?? []) await a.close();
  await t?.close();
  rmSync(home, { recursive: true, force: true });
});

const weft = (...argv: string[]) => weftIn(home)(...argv);

describe('weft release / weft update', () => {
  it('uploads a release folder, rolls it out canary first, and shows the fleet on it', async () => {
    writeFileSync(join(home, 'token'), `${t.admin}\n`, { mode: 0o600 });
    expect((await weft('login', '--hub', t.hub.url, '--token-file', join(home, 'token'), '--ca-fingerprint', t.hub.caFingerprint)).code).toBe(0);
    const up = await weft('release', 'upload', rel);
    expect(up).toMatchObject({ code: 0, out: expect.stringContaining('uploaded agent 0.4.0') });
    const list = JSON.parse((await weft('release', 'list', '--json')).out);
    expect(list).toMatchObject([{ version: '0.4.0', kind: 'agent', complete: true }]);
    const started = JSON.parse((await weft('update', 'rollout', '0.4.0', '--canary', 'cli-1', '--json')).out);
    const id = started.rollout.id;
    await eventually(async () => JSON.parse((await weft('update', 'status', String(id), '--json')).out).rollout.state === 'completed', 'update to complete');
    const fleetRows = JSON.parse((await weft('update', 'fleet', '--json')).out);
    expect(fleetRows.map((f: { siteId: string; version: string }) => [f.siteId, f.version])).toEqual([
      ['cli-1', '0.4.0'],
      ['cli-2', '0.4.0'],
    ]);
    expect((await weft('update', 'fleet')).out).toMatch(/cli-1\s+0\.4\.0\s+0\.4\.0 blessed/);
    expect((await weft('update', 'rollout')).code).toBe(2);
    expect(await weft('update', 'rollout', '9.9.9')).toMatchObject({ code: 1, err: expect.stringContaining('RELEASE_NOT_FOUND') });
  });
});
