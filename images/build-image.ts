// npm run build:image [-- --agent dist/weft-agent --k3s /path/to/k3s --provision weft-provision.json --out images/out
//                        --hostname weft-appliance --root-password-hash '$6$...' --set key=value (repeatable)]
// Builds a bootable appliance disk (UEFI, GPT: boot, read-only root, data) from Debian bookworm,
// offline after the first debootstrap, without loop devices or mounts: each filesystem is built
// from a directory (mkfs.ext4 -d, mtools for the FAT boot partition) and copied into the disk.
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  applianceFiles,
  type AgentSettings,
  AGENT_PATH,
  DATA_DIR,
  ESP_MOUNT,
  enabledUnits,
  K3S_DATA,
  kernelCmdline,
  MASKED_UNITS,
  symlinks,
} from './appliance-files.ts';
import { PART_UUID, writeDisk } from './disk.ts';
import { formatError } from '../base/index.ts';
import { ImageError } from './errors.ts';
import { sh } from './exec.ts';
import { k3sManifests } from './k3s-manifests.ts';
import { checkProvisionFile, putProvisioning } from './provision-image.ts';
import { cacheDir, ensureRootfs } from './rootfs-cache.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SYSTEMD_BOOT = '/usr/lib/systemd/boot/efi/systemd-bootx64.efi';

export interface BuildOptions {
  agent: string;
  out: string;
  k3s?: string;
  provision?: string;
  hostname?: string;
  /** crypt(3) hash for root's console login (`openssl passwd -6`); without it root cannot log in. */
  rootPasswordHash?: string;
  /** Added to or overriding /etc/weft/agent.yaml (appliance-files.ts agentSettings). */
  agentSettings?: AgentSettings;
  /** Extra kernel command line, e.g. systemd.journald.forward_to_console=1 to see the agent's log on the serial console. */
  kernelArgs?: string[];
  dataMiB?: number;
  /** Also keep the root filesystem image here: the `rootfs` artifact of a release (build-release.ts). */
  rootOut?: string;
  log?: (m: string) => void;
}

export interface BuiltImage {
  raw: string;
  qcow2: string;
  /** SHA256SUMS beside them, for `sha256sum -c` after a download (before provisioning changes the raw image). */
  sums: string;
  bytes: { raw: number; root: number };
}

function duBytes(dir: string): number {
  return Number(sh('du', ['-sb', dir]).split('\t')[0]);
}

function mkfsExt4(file: string, fromDir: string, label: string, bytes: number): void {
  const kib = Math.ceil(bytes / 1024);
  // -d populates the filesystem from the tree without mounting it; no journal on a read-only root.
  sh('mkfs.ext4', ['-F', '-q', '-L', label, '-E', 'root_owner=0:0', '-d', fromDir, file, `${kib}k`]);
}

const CRYPT_HASH = /^\$[0-9a-z]+\$[^:\s]+$/;

/** Sets root's password hash in the tree's /etc/shadow (the root filesystem is read-only later). */
function setRootPassword(root: string, hash: string): void {
  const shadow = join(root, 'etc/shadow');
  const lines = readFileSync(shadow, 'utf8')
    .split('\n')
    .map((l) =>
      l.startsWith('root:')
        ? l
            .split(':')
            .map((f, i) => (i === 1 ? hash : f))
            .join(':')
        : l,
    );
  writeFileSync(shadow, lines.join('\n'));
}

function buildEsp(file: string, kernel: string, initrd: string, o: Pick<BuildOptions, 'provision' | 'kernelArgs'>): void {
  sh('mkfs.vfat', ['-C', '-n', 'WEFT-BOOT', file, String(96 * 1024)]);
  const m = (args: string[]) => sh(args[0], ['-i', file, ...args.slice(1)]);
  m(['mmd', '::/EFI', '::/EFI/BOOT', '::/loader', '::/loader/entries']);
  m(['mcopy', SYSTEMD_BOOT, '::/EFI/BOOT/BOOTX64.EFI']);
  m(['mcopy', kernel, '::/vmlinuz']);
  m(['mcopy', initrd, '::/initrd.img']);
  const tmp = mkdtempSync(join(cacheDir(), 'esp-'));
  try {
    const put = (name: string, text: string, dest: string) => {
      writeFileSync(join(tmp, name), text);
      m(['mcopy', join(tmp, name), dest]);
    };
    put('loader.conf', 'default weft.conf\ntimeout 0\neditor no\n', '::/loader/loader.conf');
    put('weft.conf', `title Weft appliance\nlinux /vmlinuz\ninitrd /initrd.img\noptions ${kernelCmdline(o.kernelArgs)}\n`, '::/loader/entries/weft.conf');
    put('README.txt', 'Weft appliance boot partition.\r\nPlace weft-provision.json here (see docs/technician.md), then power on.\r\n', '::/README.txt');
    if (o.provision) putProvisioning(file, o.provision);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export function buildImage(o: BuildOptions): BuiltImage {
  const log = o.log ?? ((m: string) => process.stderr.write(`build-image: ${m}\n`));
  if (!existsSync(o.agent)) throw new ImageError('IMAGE_AGENT_MISSING', `agent binary ${o.agent} not found`, 'run `npm run build:agent` first');
  if (o.provision) checkProvisionFile(o.provision);
  if (o.rootPasswordHash !== undefined && !CRYPT_HASH.test(o.rootPasswordHash)) {
    throw new ImageError(
      'IMAGE_BAD_OPTION',
      '--root-password-hash is not a crypt(3) hash',
      "make one with `openssl passwd -6` and quote it: --root-password-hash '$6$...'",
    );
  }
  // Bad options are refused first, so their fix is shown to anyone, root or not.
  if (process.getuid?.() !== 0) throw new ImageError('IMAGE_NOT_ROOT', 'building an image needs root (debootstrap, file ownership)', 'run it as root');
  if (!existsSync(SYSTEMD_BOOT)) throw new ImageError('IMAGE_TOOL_MISSING', `${SYSTEMD_BOOT} is missing`, 'apt-get install systemd-boot-efi');

  const rootfs = ensureRootfs(log);
  const work = mkdtempSync(join(cacheDir(), 'build-'));
  try {
    const root = join(work, 'root');
    log('copying the cached tree');
    sh('cp', ['-a', '--reflink=auto', rootfs, root]);
    rmSync(join(root, '.weft-complete'), { force: true });
    const withK3s = Boolean(o.k3s);
    for (const file of applianceFiles({ hostname: o.hostname ?? 'weft-appliance', withK3s, agentSettings: o.agentSettings })) {
      const p = join(root, file.path);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, file.content);
      chmodSync(p, file.mode);
    }
    for (const u of enabledUnits({ withK3s })) {
      const dir = join(root, 'etc/systemd/system', `${u.wantedBy}.wants`);
      mkdirSync(dir, { recursive: true });
      rmSync(join(dir, u.unit), { force: true });
      symlinkSync(u.from, join(dir, u.unit));
    }
    for (const l of symlinks({ withK3s })) {
      mkdirSync(dirname(join(root, l.path)), { recursive: true });
      rmSync(join(root, l.path), { force: true });
      symlinkSync(l.target, join(root, l.path));
    }
    for (const unit of MASKED_UNITS) {
      rmSync(join(root, 'etc/systemd/system', unit), { force: true });
      symlinkSync('/dev/null', join(root, 'etc/systemd/system', unit));
    }
    for (const d of [DATA_DIR, ESP_MOUNT, '/sys/fs/bpf']) mkdirSync(join(root, d), { recursive: true });
    if (o.rootPasswordHash) setRootPassword(root, o.rootPasswordHash);
    copyFileSync(o.agent, join(root, AGENT_PATH));
    chmodSync(join(root, AGENT_PATH), 0o755);
    if (o.k3s) {
      copyFileSync(o.k3s, join(root, 'usr/local/bin/k3s'));
      chmodSync(join(root, 'usr/local/bin/k3s'), 0o755);
    }

    const boot = join(root, 'boot');
    const kernel = readdirSync(boot).find((n) => n.startsWith('vmlinuz-'));
    const initrd = readdirSync(boot).find((n) => n.startsWith('initrd.img-') && !n.endsWith('.new') && !n.endsWith('.dpkg-bak'));
    if (!kernel || !initrd) throw new ImageError('IMAGE_BAD_IMAGE', `no kernel or initrd in ${boot}`, `remove ${rootfs} to rebuild the cache`);

    // The data partition: the agent's store, and k3s's state and auto-deploy manifests when present.
    const data = join(work, 'data');
    mkdirSync(data, { mode: 0o700 });
    if (o.k3s) {
      const manifests = join(data, K3S_DATA, 'server/manifests');
      mkdirSync(manifests, { recursive: true });
      mkdirSync(join(data, K3S_DATA, 'rancher'), { recursive: true });
      for (const m of k3sManifests(join(repo, 'edge-agent/deploy/k3s'))) writeFileSync(join(manifests, m.name), m.content);
    }

    log('building filesystems');
    const rootBytes = Math.ceil(duBytes(root) * 1.15) + (48 << 20);
    mkfsExt4(join(work, 'root.img'), root, 'weft-root', rootBytes);
    mkfsExt4(join(work, 'data.img'), data, 'weft-data', (o.dataMiB ?? 256) << 20);
    buildEsp(join(work, 'esp.img'), join(boot, kernel), join(boot, initrd), o);

    mkdirSync(o.out, { recursive: true });
    const raw = join(o.out, 'appliance.img');
    const qcow2 = join(o.out, 'appliance.qcow2');
    log('writing the disk');
    writeDisk(raw, [
      { name: 'weft-esp', uuid: PART_UUID.esp, type: 'esp', file: join(work, 'esp.img') },
      { name: 'weft-root', uuid: PART_UUID.root, type: 'linux', file: join(work, 'root.img') },
      { name: 'weft-data', uuid: PART_UUID.data, type: 'linux', file: join(work, 'data.img') },
    ]);
    sh('qemu-img', ['convert', '-q', '-O', 'qcow2', raw, qcow2]);
    if (o.rootOut) copyFileSync(join(work, 'root.img'), o.rootOut);
    const sums = join(o.out, 'SHA256SUMS');
    writeFileSync(sums, sh('sha256sum', ['appliance.img', 'appliance.qcow2'], { cwd: o.out }));
    return { raw, qcow2, sums, bytes: { raw: statSync(raw).size, root: rootBytes } };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function arg(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** Every `--set key=value`: agent settings baked into the image. */
function settings(argv: string[]): AgentSettings {
  const out: AgentSettings = {};
  argv.forEach((a, i) => {
    if (a !== '--set') return;
    const m = /^([A-Za-z]+)=(.*)$/.exec(argv[i + 1] ?? '');
    if (!m) throw new ImageError('IMAGE_BAD_OPTION', `--set ${argv[i + 1] ?? ''}: want key=value`, 'e.g. --set tunnel=off (keys: docs/technician.md)');
    out[m[1]] = m[2];
  });
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const argv = process.argv.slice(2);
  try {
    const img = buildImage({
      agent: resolve(arg(argv, 'agent') ?? join(repo, 'dist/weft-agent')),
      out: resolve(arg(argv, 'out') ?? join(repo, 'images/out')),
      k3s: arg(argv, 'k3s'),
      provision: arg(argv, 'provision'),
      hostname: arg(argv, 'hostname'),
      agentSettings: settings(argv),
      rootPasswordHash: arg(argv, 'root-password-hash'),
    });
    process.stdout.write(`${img.raw}\n${img.qcow2}\n${img.sums}\n`);
  } catch (e) {
    if (e instanceof ImageError) {
      process.stderr.write(`build-image: ${formatError(e)}\n`);
      process.exit(2);
    }
    throw e;
  }
}
