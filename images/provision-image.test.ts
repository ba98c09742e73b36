// `npm run image:provision`: the provisioning file goes onto the boot partition of a real GPT disk
// image (built here the same way build-image does, small), read back with mtools; bad input is
// refused before the image is touched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PART_UUID, writeDisk } from './disk.ts';
import { ImageError } from './errors.ts';
import { sh } from './exec.ts';
import { provisionImage, readProvision } from './provision-image.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const tools = ['mkfs.vfat', 'mcopy', 'sfdisk', 'mkfs.ext4'].filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
if (tools.length) console.warn(`provision-image.test: skipping, missing ${tools.join(', ')} (npm run setup installs them)`);

const FRESH = /weft site token --provision-file/;
let dir: string;
let image: string;
const good = {
  v: 1,
  hubUrl: 'https://hub.example.com:8443',
  caFingerprint: 'AB:'.repeat(31) + 'AB',
  siteName: 'store-042',
  token: 'wenr_0123456789abcdefghij',
  network: { address: '192.0.2.10/24', gateway: '192.0.2.1', dns: ['192.0.2.1'] },
};

beforeAll(() => {
  if (tools.length) return;
  dir = mkdtempSync(join(tmpdir(), 'wimg-prov-'));
  const esp = join(dir, 'esp.img');
  sh('mkfs.vfat', ['-C', '-n', 'WEFT-BOOT', esp, String(8 * 1024)]);
  const root = join(dir, 'root.img');
  sh('mkfs.ext4', ['-F', '-q', root, '4m']);
  image = join(dir, 'appliance.img');
  writeDisk(image, [
    { name: 'weft-esp', uuid: PART_UUID.esp, type: 'esp', file: esp },
    { name: 'weft-root', uuid: PART_UUID.root, type: 'linux', file: root },
  ]);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function file(name: string, content: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

describe.skipIf(tools.length > 0)('image:provision', () => {
  it('writes the file onto the boot partition, replaces an earlier one, and leaves the other partitions alone', () => {
    const rootBefore = sh('sfdisk', ['--dump', image]);
    expect(readProvision(image)).toBeNull();
    provisionImage(image, file('first.json', { ...good, siteName: 'store-041' }));
    expect(JSON.parse(readProvision(image)!)).toMatchObject({ siteName: 'store-041' });
    provisionImage(image, file('second.json', good));
    expect(JSON.parse(readProvision(image)!)).toEqual(good);
    expect(sh('sfdisk', ['--dump', image])).toBe(rootBefore);
  });

  it('puts the static network next to it, and takes it away when a later file has none', () => {
    provisionImage(image, file('static.json', good));
    expect(readProvision(image, 'weft-static.network')).toMatch(/^Address=192\.0\.2\.10\/24$/m);
    const { network: _dhcp, ...dhcp } = good;
    provisionImage(image, file('dhcp.json', dhcp));
    expect(readProvision(image, 'weft-static.network')).toBeNull();
    expect(JSON.parse(readProvision(image)!)).toEqual(dhcp);
  });

  it.each([
    ['not JSON', '{"hubUrl": ', /not valid JSON.*PROVISION_BAD_JSON/, FRESH],
    ['an http hub', { ...good, hubUrl: 'http://hub.example.com' }, /hubUrl must be an https:\/\/ URL.*PROVISION_BAD_FIELD/, FRESH],
    ['a short fingerprint', { ...good, caFingerprint: 'abcd' }, /caFingerprint must be the 64 hex digits/, FRESH],
    ['no site name', { ...good, siteName: undefined }, /siteName is missing/, FRESH],
    [
      'a static address without prefix',
      { ...good, network: { address: '192.0.2.10' } },
      /network\.address: "192\.0\.2\.10" is not an address/,
      /omit "network" for DHCP/,
    ],
  ])('refuses %s, naming the file and the field, and writes nothing', (_name, content, message, hint) => {
    const before = readProvision(image);
    const p = file('bad.json', content);
    const err = (() => {
      try {
        provisionImage(image, p);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ImageError);
    expect((err as ImageError).code).toBe('IMAGE_BAD_PROVISION');
    expect((err as ImageError).message).toContain(p);
    expect((err as ImageError).message).toMatch(message);
    expect((err as ImageError).hint).toMatch(hint);
    expect(readProvision(image)).toBe(before);
  });

  it('refuses a disk without a Weft boot partition', () => {
    const plain = file('plain.img', 'x'.repeat(4096));
    expect(() => provisionImage(plain, file('ok.json', good))).toThrow(/no weft-esp partition/);
    expect(statSync(plain).size).toBe(4096);
  });

  it('as `npm run image:provision`: exit 0 and a message, exit 2 with the fix for bad input', () => {
    const cli = (args: string[]) => spawnSync(process.execPath, ['bin/run.mjs', 'images/provision-image.ts', ...args], { cwd: repo, encoding: 'utf8' });
    const ok = cli(['--file', file('cli.json', { ...good, siteName: 'store-099' }), '--image', image]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/onto the boot partition/);
    expect(JSON.parse(readProvision(image)!).siteName).toBe('store-099');
    const usage = cli(['--image', image]);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/usage: npm run image:provision/);
    const bad = cli(['--file', file('cli-bad.json', { ...good, hubUrl: 'ftp://x' }), '--image', image]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/IMAGE_BAD_PROVISION[\s\S]*hint: get a fresh file/);
    expect(readFileSync(join(dir, 'cli-bad.json'), 'utf8')).toContain('ftp://x');
  });
});
