// A peer's port function as LPM rule entries under the set's default: a peer-wide entry where it
// differs from the default, a protocol entry for the value that covers most of a protocol's ports,
// and aligned port blocks for the rest. Each entry only where a shorter prefix would be wrong.
import { portBlocks } from '../port-blocks.ts';
import type { RuleEntry, RuleValue } from '../tables.ts';
import type { PortFunction } from './port-function.ts';
import { PROTO_NUMBERS, PROTOS } from './protocols.ts';

/** An entry below the peer-wide one: a protocol (portBits 0) or a port block of it. */
export interface PortEntry {
  proto: number;
  port: number;
  portBits: number;
  value: RuleValue;
}

/** The protocol and port-block entries a function needs under its own peer-wide value. */
export function portEntries(f: PortFunction): PortEntry[] {
  const out: PortEntry[] = [];
  for (const proto of PROTOS) {
    const segs = f.segments[proto];
    let base = segs[0].value;
    let baseCover = -1;
    for (const s of segs) {
      let cover = 0;
      for (const t of segs) if (t.value === s.value) cover += t.to - t.from + 1;
      if (cover > baseCover) {
        base = s.value;
        baseCover = cover;
      }
    }
    const num = PROTO_NUMBERS[proto];
    if (base !== f.other) out.push({ proto: num, port: 0, portBits: 0, value: base });
    for (const s of segs) {
      if (s.value === base) continue;
      for (const b of portBlocks(s.from, s.to)) out.push({ proto: num, port: b.port, portBits: b.bits, value: s.value });
    }
  }
  return out;
}

/** Rule entries for one (set, peer), in canonical order: the peer-wide entry, then the port entries. */
export function emitPeer(out: RuleEntry[], set: number, peer: number, other: RuleValue, entries: readonly PortEntry[], dflt: RuleValue): void {
  if (other !== dflt) out.push({ set, peer, proto: null, port: 0, portBits: 0, value: other });
  for (const e of entries) out.push({ set, peer, proto: e.proto, port: e.port, portBits: e.portBits, value: e.value });
}
