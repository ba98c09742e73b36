// Where the single binary may extract its addons: not on a noexec mount (seen on the appliance: /run).
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mountOptionsOf } from './assets.ts';

const dir = mkdtempSync(join(tmpdir(), 'wimg-assets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const mountinfo = join(dir, 'mountinfo');
writeFileSync(mountinfo, [
  '22 1 254:2 / / ro,noatime shared:1 - ext4 /dev/vda2 ro',
  '25 22 0:22 / /run rw,nosuid,nodev,noexec,relatime shared:5 - tmpfs tmpfs rw,mode=755',
  '31 22 254:3 / /var/lib/weft rw,nosuid,nodev,noatime shared:9 - ext4 /dev/vda3 rw',
  '32 22 0:40 / /var/lib/weft\\040data rw,noexec shared:10 - tmpfs tmpfs rw',
  '',
].join('\n'));

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
