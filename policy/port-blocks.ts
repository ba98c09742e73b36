// A port range as the fewest aligned prefix blocks, for LPM rule keys: [80, 88] -> 80/13 (80-87), 88/16.

export interface PortBlock {
  port: number;
  /** Leading bits of the 16-bit port that must match (16 = one port, 0 = any port). */
  bits: number;
}

export function portBlocks(from: number, to: number): PortBlock[] {
  const out: PortBlock[] = [];
  let cur = from;
  while (cur <= to) {
    let size = 0; // log2 of the block length
    while (size < 16 && cur % (1 << (size + 1)) === 0 && cur + (1 << (size + 1)) - 1 <= to) size++;
    out.push({ port: cur, bits: 16 - size });
    cur += 1 << size;
  }
  return out;
}

/** Does `port` fall in the block? */
export function inBlock(b: PortBlock, port: number): boolean {
  return b.bits === 0 || port >>> (16 - b.bits) === b.port >>> (16 - b.bits);
}
