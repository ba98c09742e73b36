// The Debian bookworm tree the image starts from, made with debootstrap (minbase) from the Debian
// mirror and cached between runs on the same machine, keyed by what went into it.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { sh } from './exec.ts';

export const SUITE = 'bookworm';
export const MIRROR = process.env.WEFT_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';

/**
 * What the appliance runs: kernel + initrd, systemd, networking, WireGuard, and the shared libraries
 * the agent's bpf addon links against (libbpf1, libelf1). Nothing else.
 */
export const PACKAGES = [
  'linux-image-amd64',
  'initramfs-tools',
  'systemd',
  'systemd-sysv',
  'udev',
  'kmod',
  'dbus',
  'iproute2',
  'wireguard-go',
  'wireguard-tools',
  'ca-certificates',
  'e2fsprogs',
  'procps',
  'iputils-ping',
  'nftables',
  'libbpf1',
  'libelf1',
];

export function cacheDir(): string {
  return process.env.WEFT_IMAGE_CACHE ?? '/var/cache/weft/images';
}

export function cacheKey(): string {
  return createHash('sha256')
    .update(JSON.stringify({ SUITE, MIRROR, PACKAGES, v: 1 }))
    .digest('hex')
    .slice(0, 12);
}

/** Returns the path of a complete cached tree, building it first when missing. */
export function ensureRootfs(log: (m: string) => void): string {
  const dir = join(cacheDir(), `rootfs-${SUITE}-${cacheKey()}`);
  if (existsSync(join(dir, '.weft-complete'))) return dir;
  mkdirSync(cacheDir(), { recursive: true, mode: 0o700 });
  const tmp = `${dir}.partial`;
  rmSync(tmp, { recursive: true, force: true });
  log(`debootstrap ${SUITE} (minbase) into ${tmp}; cached for later builds`);
  sh('debootstrap', ['--variant=minbase', `--include=${PACKAGES.join(',')}`, SUITE, tmp, MIRROR], { timeoutMs: 20 * 60_000 });
  // Leftovers of the initramfs build that would only bloat the image.
  sh('sh', ['-c', `rm -f ${tmp}/boot/*.dpkg-bak ${tmp}/boot/*.new; rm -rf ${tmp}/var/cache/apt/archives/*.deb ${tmp}/var/lib/apt/lists/*`]);
  sh('touch', [join(tmp, '.weft-complete')]);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return dir;
}
