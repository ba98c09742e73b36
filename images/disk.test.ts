import { describe, expect, it } from 'vitest';
import { layout, PART_UUID, sfdiskScript, SECTOR } from './disk.ts';

describe('disk layout', () => {
  const { placed, totalSectors } = layout([
    { spec: { name: 'weft-esp', uuid: PART_UUID.esp, type: 'esp', file: 'esp.img' }, bytes: 64 << 20 },
    { spec: { name: 'weft-root', uuid: PART_UUID.root, type: 'linux', file: 'root.img' }, bytes: (700 << 20) + 1 },
    { spec: { name: 'weft-data', uuid: PART_UUID.data, type: 'linux', file: 'data.img' }, bytes: 32 << 20 },
  ]);
  it('aligns every partition to 1 MiB and never overlaps', () => {
    for (const p of placed) expect((p.startSector * SECTOR) % (1 << 20)).toBe(0);
    for (let i = 1; i < placed.length; i++) expect(placed[i].startSector).toBeGreaterThanOrEqual(placed[i - 1].startSector + placed[i - 1].sectors);
  });
  it('gives each filesystem at least its own size', () => {
    expect(placed[1].sectors * SECTOR).toBeGreaterThanOrEqual((700 << 20) + 1);
  });
  it('leaves room for the backup GPT', () => {
    const last = placed[placed.length - 1];
    expect(totalSectors).toBeGreaterThanOrEqual(last.startSector + last.sectors + 33);
  });
  it('names partitions so fstab and the kernel command line find them', () => {
    const s = sfdiskScript(placed);
    expect(s).toContain(`uuid=${PART_UUID.root}, name="weft-root"`);
    expect(s).toContain('type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B');
  });
});
