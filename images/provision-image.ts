// npm run image:provision -- --file weft-provision.json --image appliance.img
// Writes the provisioning file onto a built image's boot partition without booting or mounting it
// (mtools at the partition's byte offset). Only raw images: convert qcow2 back with qemu-img.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AgentError, readProvisionFile, type ProvisionFile } from '../edge-agent/index.ts';
import { partitionOffset } from './disk.ts';
import { formatError, errorMessage } from '../base/index.ts';
import { ImageError } from './errors.ts';
import { sh } from './exec.ts';
import { STATIC_NETWORK_FILE, staticNetworkUnit } from './static-network.ts';

/**
 * The agent's own reader checks the file at the desk, so a typo never travels to the store; the
 * static network, when given, is checked and rendered here too. Returns the networkd unit or null.
 */
export function checkProvisionFile(file: string): { provision: ProvisionFile; networkUnit: string | null } {
  let provision: ProvisionFile;
  try {
    provision = readProvisionFile(file);
  } catch (e) {
    if (e instanceof AgentError) throw new ImageError('IMAGE_BAD_PROVISION', `${e.message} (${e.code})`, e.hint);
    throw e;
  }
  return { provision, networkUnit: provision.network ? staticNetworkUnit(provision.network, file) : null };
}

/** Puts the file (and its static network, or removes a stale one) on a FAT boot partition; `esp` is an mtools image spec. */
export function putProvisioning(esp: string, file: string): void {
  const { networkUnit } = checkProvisionFile(file);
  // -o overwrites a previous provisioning file instead of asking.
  sh('mcopy', ['-o', '-i', esp, file, '::/weft-provision.json']);
  if (networkUnit === null) {
    if (sh('mdir', ['-b', '-i', esp, '::/']).toLowerCase().includes(STATIC_NETWORK_FILE)) sh('mdel', ['-i', esp, `::/${STATIC_NETWORK_FILE}`]);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'weft-net-'));
  try {
    writeFileSync(join(dir, STATIC_NETWORK_FILE), networkUnit);
    sh('mcopy', ['-o', '-i', esp, join(dir, STATIC_NETWORK_FILE), `::/${STATIC_NETWORK_FILE}`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function provisionImage(image: string, file: string): void {
  if (!existsSync(image)) throw new ImageError('IMAGE_BAD_IMAGE', `${image} not found`, 'build one with `npm run build:image`');
  checkProvisionFile(file);
  let offset: number;
  try {
    offset = partitionOffset(image, 'weft-esp');
  } catch (e) {
    throw new ImageError(
      'IMAGE_BAD_IMAGE',
      `${image} has no weft-esp partition (${errorMessage(e)})`,
      'give the raw appliance.img built by `npm run build:image`',
    );
  }
  putProvisioning(`${image}@@${offset}`, file);
}

/** Reads a file back from an image's boot partition (tests, and checks at the desk); null when absent. */
export function readProvision(image: string, name = 'weft-provision.json'): string | null {
  const offset = partitionOffset(image, 'weft-esp');
  try {
    return sh('mtype', ['-i', `${image}@@${offset}`, `::/${name}`]);
  } catch {
    return null;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const argv = process.argv.slice(2);
  const get = (n: string) => {
    const i = argv.indexOf(`--${n}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const file = get('file');
  const image = get('image');
  if (!file || !image) {
    process.stderr.write('usage: npm run image:provision -- --file weft-provision.json --image appliance.img\n');
    process.exit(2);
  }
  try {
    provisionImage(resolve(image), resolve(file));
    process.stdout.write(`wrote ${file} onto the boot partition of ${image}\n`);
  } catch (e) {
    if (e instanceof ImageError) {
      process.stderr.write(`image:provision: ${formatError(e)}\n`);
      process.exit(2);
    }
    throw e;
  }
}
