// The image tools run external programs through base/exec.ts; a failure says which command failed
// and, for a missing tool, which Debian package brings it.
import { ExecError, runSync } from '../base/index.ts';
import { ImageError } from './errors.ts';

const PACKAGE_OF: Record<string, string> = {
  debootstrap: 'debootstrap',
  sfdisk: 'fdisk',
  'mkfs.ext4': 'e2fsprogs',
  'mkfs.vfat': 'dosfstools',
  mcopy: 'mtools',
  mmd: 'mtools',
  mdel: 'mtools',
  mtype: 'mtools',
  'qemu-img': 'qemu-utils',
  'qemu-system-x86_64': 'qemu-system-x86',
  socat: 'socat',
};

export interface ShOptions {
  input?: string;
  /** Default: no limit, as image builds take minutes. */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export function sh(cmd: string, args: string[], opts: ShOptions = {}): string {
  try {
    return runSync([cmd, ...args], { timeoutMs: 0, ...opts });
  } catch (e) {
    if (!(e instanceof ExecError)) throw e;
    if (e.code === 'EXEC_NOT_FOUND') {
      throw new ImageError('IMAGE_TOOL_MISSING', `${cmd} is not installed`, `apt-get install ${PACKAGE_OF[cmd] ?? cmd} (npm run setup does it as root)`);
    }
    throw new ImageError(
      'IMAGE_COMMAND_FAILED',
      `${cmd} ${args.join(' ')} failed (exit ${e.exitCode}): ${`${e.stdout}${e.stderr}`.trim().slice(-2000)}`,
      undefined,
      { cause: e },
    );
  }
}
