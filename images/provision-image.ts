// npm run image:provision -- --file weft-provision.json --image appliance.img
// Writes the provisioning file onto a built image's boot partition without booting or mounting it
// (mtools at the partition's byte offset). Only raw images: convert qcow2 back with qemu-img.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { AgentError } from '../edge-agent/errors.ts';
import { readProvisionFile, type ProvisionFile } from '../edge-agent/provision-file.ts';
import { partitionOffset } from './disk.ts';
import { ImageError, formatImageError } from './errors.ts';
import { sh } from './exec.ts';

/** The agent's own reader checks the file at the desk, so a typo never travels to the store. */
export function checkProvisionFile(file: string): ProvisionFile {
  try {
    return readProvisionFile(file);
  } catch (e) {
    if (e instanceof AgentError) throw new ImageError('IMAGE_BAD_PROVISION', `${e.message} (${e.code})`, e.hint);
    throw e;
  }
}

export function provisionImage(image: string, file: string): void {
  if (!existsSync(image)) throw new ImageError('IMAGE_BAD_IMAGE', `${image} not found`, 'build one with `npm run build:image`');
  checkProvisionFile(file);
  let offset: number;
  try {
    offset = partitionOffset(image, 'weft-esp');
  } catch (e) {
    throw new ImageError('IMAGE_BAD_IMAGE', `${image} has no weft-esp partition (${(e as Error).message})`, 'give the raw appliance.img built by `npm run build:image`');
  }
  // -o overwrites a previous provisioning file instead of asking.
  sh('mcopy', ['-o', '-i', `${image}@@${offset}`, file, '::/weft-provision.json']);
}

/** Reads the provisioning file back from an image (tests, and `doctor`-style checks at the desk). */
export function readProvision(image: string): string | null {
  const offset = partitionOffset(image, 'weft-esp');
  try {
    return sh('mtype', ['-i', `${image}@@${offset}`, '::/weft-provision.json']);
  } catch {
    return null;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const argv = process.argv.slice(2);
  const get = (n: string) => { const i = argv.indexOf(`--${n}`); return i >= 0 ? argv[i + 1] : undefined; };
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
      process.stderr.write(`image:provision: ${formatImageError(e)}\n`);
      process.exit(2);
    }
    throw e;
  }
}
