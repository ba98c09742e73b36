// weft link add|list|rm against a real hub: the pair form, the selector form, bad usage (exit 2) and a
// refused link (exit 2 with the hub's code).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrollSite } from '../testing/fleet.ts';
import { startTestHub, type TestHub } from '../testing/hub-fixture.ts';
import { weftIn } from './testing/run-weft.ts';

let t: TestHub;
const home = mkdtempSync(join(tmpdir(), 'weft-cli-link-'));
beforeAll(async () => {
  t = await startTestHub();
  for (const [n, labels] of [
    ['store-1', { kind: 'store', region: 'north' }],
    ['wh-1', { kind: 'warehouse', region: 'north' }],
  ] as const)
    await enrollSite(t, n, labels);
});
afterAll(async () => {
  await t?.close();
  rmSync(home, { recursive: true, force: true });
});

const weft = (...argv: string[]) => weftIn(home)(...argv);

describe('weft link', () => {
  it('adds a pair and a selector link, lists them with their pairs, removes one', async () => {
    const tokenFile = join(home, 'token');
    writeFileSync(tokenFile, `${t.admin}\n`, { mode: 0o600 });
    expect((await weft('login', '--hub', t.hub.url, '--token-file', tokenFile, '--ca-fingerprint', t.hub.caFingerprint)).code).toBe(0);

    const pair = await weft('link', 'add', 'store-1', 'wh-1');
    expect(pair).toMatchObject({ code: 0, out: expect.stringContaining('store-1 <-> wh-1') });
    const sel = await weft('link', 'add', '--from', 'kind=store,region=north', '--to', 'kind=warehouse', '--same', 'region', '--json');
    expect(sel.code).toBe(0);
    const id = JSON.parse(sel.out).id as number;

    const list = await weft('link', 'list');
    expect(list.code).toBe(0);
    expect(list.out).toContain('kind=store,region=north <-> kind=warehouse (same region)');
    expect(list.out).toMatch(/store-1\s+wh-1\s+1,2/);

    expect((await weft('link', 'rm', String(id))).code).toBe(0);
    const after = JSON.parse((await weft('link', 'list', '--json')).out) as { links: unknown[] };
    expect(after.links).toHaveLength(1);
  });

  it('bad usage exits 2; a refused link exits 2 with the code; an unknown link 1', async () => {
    expect((await weft('link', 'add', 'store-1')).code).toBe(2);
    expect((await weft('link', 'add', '--from', 'kind', '--to', 'x=y')).code).toBe(2);
    const self = await weft('link', 'add', 'store-1', 'store-1');
    expect(self.code).toBe(2);
    expect(self.err).toContain('cannot link to itself');
    expect((await weft('link', 'rm', '999')).code).toBe(1); // not found: the answer is no
  });
});
