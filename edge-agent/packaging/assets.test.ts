// Where the single binary may extract its addons: not on a noexec mount (seen on the appliance: /run).
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../logger.ts';
import { ASSETS, ASSETS_HASH_KEY, assetsHash, mountOptionsOf, prepareAssets, type SeaApi } from './assets.ts';

const dir = mkdtempSync(join(tmpdir(), 'wimg-assets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const mountinfo = join(dir, 'mountinfo');
writeFileSync(
  mountinfo,
  [
    '22 1 254:2 / / ro,noatime shared:1 - ext4 /dev/vda2 ro',
    '25 22 0:22 / /run rw,nosuid,nodev,noexec,relatime shared:5 - tmpfs tmpfs rw,mode=755',
    '31 22 254:3 / /var/lib/weft rw,nosuid,nodev,noatime shared:9 - ext4 /dev/vda3 rw',
    '32 22 0:40 / /var/lib/weft\\040data rw,noexec shared:10 - tmpfs tmpfs rw',
    '',
  ].join('\n'),
);

describe('mountOptionsOf', () => {
  it.each([
    ['/run/weft/assets', true],
    ['/var/lib/weft/assets', false],
    ['/var/lib/weft', false],
    ['/var/lib/weftx/assets', false], // a sibling with a common prefix is not inside /var/lib/weft
    ['/var/lib/weft data/assets', true], // octal-escaped space in the mount point
  ])('%s on a noexec mount: %s', (path, noexec) => expect(mountOptionsOf(path, mountinfo)!.includes('noexec')).toBe(noexec));

  it('falls back to the root mount, and to null without mountinfo', () => {
    expect(mountOptionsOf('/opt/x', mountinfo)).toEqual(['ro', 'noatime']);
    expect(mountOptionsOf('/opt/x', join(dir, 'missing'))).toBeNull();
  });
});

/** node:sea as the binary sees it, counting what is read out of the blob. */
function fakeSea(withHash: boolean) {
  const content = (k: string) => Buffer.from(`contents of ${k}`);
  const hash = assetsHash((k) => content(k));
  const reads: string[] = [];
  const api: SeaApi = {
    isSea: () => true,
    getAsset: (k) => {
      reads.push(k);
      if (k === ASSETS_HASH_KEY && withHash) return new Uint8Array(Buffer.from(`${hash}\n`)).buffer;
      if (!(k in ASSETS)) throw Object.assign(new Error(`no asset ${k}`), { code: 'ERR_SEA_ASSET_NOT_FOUND' });
      return new Uint8Array(content(k)).buffer;
    },
  };
  return { api, reads, hash, content };
}

describe('prepareAssets', () => {
  const log = createLogger({ level: 'silent' });
  const env = { ...process.env };
  afterAll(() => {
    process.env.WEFT_BPF_ARTIFACTS = env.WEFT_BPF_ARTIFACTS;
    process.env.WEFT_SQLITE_ADDON = env.WEFT_SQLITE_ADDON;
    if (env.WEFT_BPF_ARTIFACTS === undefined) delete process.env.WEFT_BPF_ARTIFACTS;
    if (env.WEFT_SQLITE_ADDON === undefined) delete process.env.WEFT_SQLITE_ADDON;
  });

  it('with the build-time hash, a start whose assets are already extracted reads nothing else out of the binary', () => {
    const assets = join(dir, 'with-hash');
    const sea = fakeSea(true);
    const target = prepareAssets(assets, log, sea.api)!;
    expect(target).toBe(join(assets, sea.hash.slice(0, 16)));
    for (const [k, name] of Object.entries(ASSETS)) expect(readFileSync(join(target, name))).toEqual(sea.content(k));
    expect(sea.reads.sort()).toEqual([ASSETS_HASH_KEY, ...Object.keys(ASSETS)].sort()); // first start: extracts
    sea.reads.length = 0;
    expect(prepareAssets(assets, log, sea.api)).toBe(target);
    expect(sea.reads).toEqual([ASSETS_HASH_KEY]); // later starts: 64 bytes, not the addons
    expect(process.env.WEFT_SQLITE_ADDON).toBe(join(target, 'better_sqlite3.node'));
  });

  it('a binary built without it hashes the assets at start, into the same directory name', () => {
    const assets = join(dir, 'no-hash');
    const sea = fakeSea(false);
    expect(prepareAssets(assets, log, sea.api)).toBe(join(assets, sea.hash.slice(0, 16)));
    expect(readdirSync(assets)).toEqual([sea.hash.slice(0, 16)]);
  });
});
