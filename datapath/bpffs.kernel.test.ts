// The new-machine condition: no bpffs mounted, and the agent started inside a private mount
// namespace (as `ip netns exec` does). A bpffs it mounted there would vanish with it, so it must
// refuse, naming the fix; in the host's namespace it mounts one that outlives it.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kernelSkipReason, uniquePinRoot } from './testing/kernel.ts';

const repo = join(import.meta.dirname, '..');

/** Runs the child in a fresh private mount namespace where every bpffs on /sys/fs/bpf is unmounted. */
function inPrivateNamespaceWithoutBpffs(pinRoot: string): { ok: boolean; code?: string; message?: string; mountsAfter: string } {
  const script = [
    'while umount -l /sys/fs/bpf 2>/dev/null; do :; done',
    `${process.execPath} bin/run.mjs datapath/testing/bpffs-child.ts ${pinRoot}`,
    'grep -c " bpf " /proc/mounts || true',
  ].join('; ');
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], { cwd: repo, encoding: 'utf8', timeout: 60_000 });
  const [json, count] = r.stdout.trim().split('\n');
  if (!json) throw new Error(`child printed nothing (exit ${r.status}): ${r.stderr}`);
  return { ...(JSON.parse(json) as { ok: boolean; code?: string }), mountsAfter: count };
}

describe.skipIf(kernelSkipReason)('bpffs on a new machine', () => {
  it('inside a private mount namespace with no bpffs, the datapath refuses instead of mounting pins that would vanish', () => {
    const out = inPrivateNamespaceWithoutBpffs(uniquePinRoot());
    expect(out).toMatchObject({ ok: false, code: 'DATAPATH_BPFFS_PRIVATE_NS' });
    expect(out.message).toMatch(/private mount namespace/);
    expect(out.mountsAfter).toBe('0'); // nothing was mounted where it would be lost
  });
});
