// After a crashed demo (root: a host link and a network namespace): the next start removes what the dead
// run left on the host.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { prepareStateDir, writeRun } from './state-dir.ts';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'weft-start-state-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe.skipIf(process.getuid?.() !== 0)('after a crashed demo (SIGKILL)', () => {
  it('the next start removes its host WireGuard link and (with the harness sweep) its namespaces', async () => {
    const { sweepStale } = await import('../../field-tests/lib/index.ts');
    const { exec } = await import('../../field-tests/lib/exec.ts');
    const dead = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await new Promise((r) => dead.once('exit', r));
    const pid = dead.pid!;
    const ifname = `wst${(pid % 0xffff).toString(16).padStart(4, '0')}hub`.slice(0, 15);
    const netns = `wst-${pid}-beef-site1`;
    const dir = join(tmp(), 'state');
    prepareStateDir(dir);
    try {
      // A veth stands in for the wireguard-go tun device (this kernel has no dummy links); what counts is the name.
      expect((await exec(undefined, ['ip', 'link', 'add', ifname, 'type', 'veth', 'peer', 'name', `${ifname.slice(0, 12)}-p`])).code).toBe(0);
      expect((await exec(undefined, ['ip', 'netns', 'add', netns])).code).toBe(0);
      writeRun(dir, { pid, hubIfname: ifname });

      prepareStateDir(dir);
      await sweepStale();
      expect((await exec(undefined, ['ip', 'link', 'show', ifname])).code).not.toBe(0);
      expect((await exec(undefined, ['ip', 'netns', 'list'])).stdout).not.toContain(netns);
      expect(readdirSync(dir)).toEqual(['.weft-demo']);
    } finally {
      await exec(undefined, ['ip', 'link', 'del', ifname]);
      await exec(undefined, ['ip', 'netns', 'del', netns]);
    }
  });
});
