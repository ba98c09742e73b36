// `npm run build:image` refuses bad options before it spends minutes on debootstrap (the full build
// is exercised by image.kernel.test.ts).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const build = (args: string[]) =>
  spawnSync(process.execPath, ['bin/run.mjs', 'images/build-image.ts', '--agent', '/bin/true', '--out', '/nonexistent/out', ...args], {
    cwd: repo,
    encoding: 'utf8',
    timeout: 60_000,
  });

describe('build:image options', () => {
  it.each([
    [['--set', 'tunnel'], /--set tunnel: want key=value \(IMAGE_BAD_OPTION\)\n {2}hint: e\.g\. --set tunnel=off/],
    [['--root-password-hash', 'hunter2'], /--root-password-hash is not a crypt\(3\) hash \(IMAGE_BAD_OPTION\)\n {2}hint: make one with `openssl passwd -6`/],
    [['--provision', '/nonexistent/weft-provision.json'], /cannot read the provisioning file \(ENOENT\) \(PROVISION_NOT_FOUND\) \(IMAGE_BAD_PROVISION\)/],
  ])('%j: exit 2 with the fix, nothing built', (args, message) => {
    const r = build(args);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });
});
