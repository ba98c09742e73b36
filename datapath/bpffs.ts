// Where pins live must outlive the process that made them. A bpffs mounted inside a private mount
// namespace (`ip netns exec`, `unshare -m`, a container without a host bind) vanishes with the last
// process in it, and every pin with it: a restarted agent would then re-apply instead of adopting
// the kernel state, and enforcement would not survive an agent crash. So the agent mounts bpffs
// only in the host's mount namespace and refuses, with the fix, anywhere else.
import { errorMessage } from '../base/index.ts';
import { execFileSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { DatapathError } from './errors.ts';

export const BPFFS_ROOT = '/sys/fs/bpf';

/** What the decision needs to know about the machine; gathered by probeBpffs(). */
export interface BpffsFacts {
  /** Mount points of every bpf filesystem this process sees. */
  bpffsMounts: string[];
  /** The pid of an ancestor in another mount namespace (ours is private), null when ours is the host's, undefined when unknown. */
  privateNamespaceFrom: number | null | undefined;
}

export type BpffsPlan = { kind: 'ok'; mount: string } | { kind: 'mount' } | { kind: 'refuse'; error: DatapathError };

function coveringMount(pinRoot: string, mounts: string[]): string | undefined {
  return mounts.find((m) => pinRoot === m || pinRoot.startsWith(m.endsWith('/') ? m : `${m}/`));
}

/** The pure decision: use the mount that covers the pin root, mount one (host namespace only), or refuse. */
export function planBpffs(pinRoot: string, facts: BpffsFacts): BpffsPlan {
  const mount = coveringMount(pinRoot, facts.bpffsMounts);
  if (mount) return { kind: 'ok', mount };
  if (!pinRoot.startsWith(`${BPFFS_ROOT}/`)) {
    return {
      kind: 'refuse',
      error: new DatapathError('DATAPATH_KERNEL_FEATURE', `pin root ${pinRoot} is not on a bpf filesystem (bpffs)`, `use a path under ${BPFFS_ROOT}`),
    };
  }
  if (facts.privateNamespaceFrom !== null && facts.privateNamespaceFrom !== undefined) {
    return {
      kind: 'refuse',
      error: new DatapathError(
        'DATAPATH_BPFFS_PRIVATE_NS',
        `no bpffs on ${BPFFS_ROOT} and this process runs in a private mount namespace (not the one of pid ${facts.privateNamespaceFrom}): pins mounted here would vanish when it exits`,
        `mount bpffs in the host's namespace first (\`mount -t bpf bpf ${BPFFS_ROOT}\` on the host), then bind it into this one (\`mount --bind ${BPFFS_ROOT} ${BPFFS_ROOT}\` before \`ip netns exec\`; a k3s DaemonSet mounts hostPath ${BPFFS_ROOT} with Bidirectional propagation)`,
      ),
    };
  }
  return { kind: 'mount' };
}

function mountNamespace(pid: number | 'self'): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/mnt`);
  } catch {
    return undefined; // gone, or not ours to read (a sandbox's pid 1)
  }
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/**
 * Whether this process's mount namespace is another than the host's. The host's is pid 1's; where
 * pid 1 cannot be read (some sandboxes), the nearest ancestors stand in: one in another namespace
 * means ours was made for us (`unshare -m`, `ip netns exec`).
 */
export function privateNamespaceFrom(): number | null | undefined {
  const self = mountNamespace('self');
  if (!self) return undefined;
  const init = mountNamespace(1);
  if (init) return init === self ? null : 1;
  let readable = false;
  for (let pid = parentOf(process.pid); pid !== undefined && pid > 1; pid = parentOf(pid)) {
    const ns = mountNamespace(pid);
    if (!ns) continue;
    readable = true;
    if (ns !== self) return pid;
  }
  return readable ? null : undefined;
}

export function bpffsMounts(): string[] {
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f[2] === 'bpf')
    .map((f) => f[1]);
}

export function probeBpffs(): BpffsFacts {
  return { bpffsMounts: bpffsMounts(), privateNamespaceFrom: privateNamespaceFrom() };
}

/** Makes sure a bpffs that outlives this process covers pinRoot: mounts it on the host when needed, refuses elsewhere. */
export function ensureBpffs(pinRoot: string): void {
  const plan = planBpffs(pinRoot, probeBpffs());
  if (plan.kind === 'ok') return;
  if (plan.kind === 'refuse') throw plan.error;
  try {
    execFileSync('mount', ['-t', 'bpf', 'bpf', BPFFS_ROOT], { stdio: 'pipe' });
  } catch (e) {
    throw new DatapathError(
      'DATAPATH_KERNEL_FEATURE',
      `bpffs is not mounted and mounting it failed: ${errorMessage(e).trim()}`,
      `mount it: \`mount -t bpf bpf ${BPFFS_ROOT}\` (needs root; kernel CONFIG_BPF_SYSCALL=y)`,
    );
  }
  if (!coveringMount(pinRoot, bpffsMounts())) {
    throw new DatapathError('DATAPATH_KERNEL_FEATURE', `mounted bpffs on ${BPFFS_ROOT} but ${pinRoot} is still not on it`, `check \`grep bpf /proc/mounts\``);
  }
}
