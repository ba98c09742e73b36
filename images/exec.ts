// The one place the image tools run external programs, so a failure always says which command
// failed and how to get the tool.
import { execFileSync, type ExecFileSyncOptions } from 'node:child_process';
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

export function sh(cmd: string, args: string[], opts: ExecFileSyncOptions = {}): string {
  try {
    return execFileSync(cmd, args, {
      encoding: 'utf8',
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      maxBuffer: 64 << 20,
      ...opts,
    }) as string;
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string; stdout?: string; status?: number };
    if (err.code === 'ENOENT') {
      throw new ImageError('IMAGE_TOOL_MISSING', `${cmd} is not installed`, `apt-get install ${PACKAGE_OF[cmd] ?? cmd} (npm run setup does it as root)`);
    }
    throw new ImageError(
      'IMAGE_COMMAND_FAILED',
      `${cmd} ${args.join(' ')} failed (exit ${err.status}): ${`${err.stdout ?? ''}${err.stderr ?? ''}`.trim().slice(-2000)}`,
    );
  }
}
