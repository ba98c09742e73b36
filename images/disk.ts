// Assembles a GPT disk image from filesystem images built as plain files: no loop devices, no
// mounts. sfdisk writes the partition table into the file; each filesystem is copied at its offset.
import { closeSync, openSync, readSync, statSync, writeSync, ftruncateSync } from 'node:fs';
import { sh } from './exec.ts';

export const SECTOR = 512;
const ALIGN = 2048; // 1 MiB

/** Fixed partition UUIDs: the kernel command line and fstab name partitions by them. */
export const PART_UUID = {
  esp: 'c8a1e0f2-3b7d-4f6a-9e51-77e1e57b0001',
  root: 'c8a1e0f2-3b7d-4f6a-9e51-77e1e57b0002',
  data: 'c8a1e0f2-3b7d-4f6a-9e51-77e1e57b0003',
} as const;

const TYPE = { esp: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B', linux: '0FC63DAF-8483-4772-8E79-3D69D8477DE4' };

export interface PartitionSpec {
  name: 'weft-esp' | 'weft-root' | 'weft-data';
  uuid: string;
  type: 'esp' | 'linux';
  /** A filesystem image file to copy in. */
  file: string;
}

export interface PlacedPartition extends PartitionSpec {
  startSector: number;
  sectors: number;
}

const alignUp = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

/** Where each partition goes: pure arithmetic, so it is tested without building anything. */
export function layout(parts: { spec: PartitionSpec; bytes: number }[]): { placed: PlacedPartition[]; totalSectors: number } {
  let next = ALIGN;
  const placed = parts.map(({ spec, bytes }) => {
    const sectors = alignUp(Math.ceil(bytes / SECTOR));
    const p = { ...spec, startSector: next, sectors };
    next += sectors;
    return p;
  });
  // Room for the backup GPT at the end.
  return { placed, totalSectors: next + ALIGN };
}

export function sfdiskScript(placed: PlacedPartition[]): string {
  const lines = ['label: gpt', 'unit: sectors', ''];
  for (const p of placed) {
    lines.push(`start=${p.startSector}, size=${p.sectors}, type=${TYPE[p.type]}, uuid=${p.uuid}, name="${p.name}"`);
  }
  return `${lines.join('\n')}\n`;
}

function copyInto(dstFd: number, src: string, offset: number): void {
  const fd = openSync(src, 'r');
  const buf = Buffer.allocUnsafe(8 << 20);
  try {
    let pos = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) break;
      writeSync(dstFd, buf, 0, n, offset + pos);
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
}

export function writeDisk(out: string, parts: PartitionSpec[]): PlacedPartition[] {
  const { placed, totalSectors } = layout(parts.map((spec) => ({ spec, bytes: statSync(spec.file).size })));
  const fd = openSync(out, 'w', 0o644);
  try {
    ftruncateSync(fd, totalSectors * SECTOR); // sparse
    for (const p of placed) copyInto(fd, p.file, p.startSector * SECTOR);
  } finally {
    closeSync(fd);
  }
  sh('sfdisk', ['--no-reread', '--no-tell-kernel', '--wipe-partitions', 'never', out], { input: sfdiskScript(placed) });
  return placed;
}

/** Byte offset of a named partition inside a disk image, read back from its GPT (for mtools `img@@offset`). */
export function partitionOffset(image: string, name: PartitionSpec['name']): number {
  const dump = JSON.parse(sh('sfdisk', ['--json', image])) as { partitiontable: { partitions: { start: number; name?: string }[]; sectorsize?: number } };
  const part = dump.partitiontable.partitions.find((p) => p.name === name);
  if (!part) throw new Error(`partition ${name} not found in ${image}`);
  return part.start * (dump.partitiontable.sectorsize ?? SECTOR);
}
