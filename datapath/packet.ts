// Crafted Ethernet frames for BPF_PROG_TEST_RUN (tests and the per-packet benchmark).
import type { FiveTuple } from './datapath.ts';
import { isIcmp, PROTO_ICMPV6 } from './flow.ts';
import { tableAddr as parseAddr } from './check-tables.ts';

export interface PacketSpec extends FiveTuple {
  icmpId?: number;
  /** For ICMP errors: the quoted packet. */
  inner?: FiveTuple;
  payload?: number;
  /** Fragment offset in 8-byte units (a later fragment when > 0). */
  fragOffset?: number;
  moreFragments?: boolean;
}

function l4(p: PacketSpec): Buffer {
  if (isIcmp(p.proto)) {
    const h = Buffer.alloc(8);
    h[0] = p.sport;
    h[1] = p.dport;
    h.writeUInt16BE(p.icmpId ?? 0, 4);
    return p.inner ? Buffer.concat([h, ip({ ...p.inner, payload: 0 }).subarray(0, ipHeaderLen(p.inner) + 8)]) : h;
  }
  const ports = Buffer.alloc(p.proto === 6 ? 20 : p.proto === 132 ? 12 : 8);
  ports.writeUInt16BE(p.sport, 0);
  ports.writeUInt16BE(p.dport, 2);
  if (p.proto === 6) ports[12] = 5 << 4;
  if (p.proto === 17) ports.writeUInt16BE(8 + (p.payload ?? 0), 4);
  return ports;
}

function ipHeaderLen(t: FiveTuple): number {
  return parseAddr(t.src).family === 4 ? 20 : 40;
}

/** An IP packet (no Ethernet header). */
function ip(p: PacketSpec): Buffer {
  const src = parseAddr(p.src);
  const dst = parseAddr(p.dst);
  const body = Buffer.concat([l4(p), Buffer.alloc(p.payload ?? 0)]);
  const frag = p.fragOffset !== undefined || p.moreFragments;
  if (src.family === 4) {
    const h = Buffer.alloc(20);
    h[0] = 0x45;
    h.writeUInt16BE(20 + body.length, 2);
    h.writeUInt16BE(((p.moreFragments ? 1 : 0) << 13) | (p.fragOffset ?? 0), 6);
    h[8] = 64;
    h[9] = p.proto;
    h.set(src.bytes, 12);
    h.set(dst.bytes, 16);
    return Buffer.concat([h, body]);
  }
  const h = Buffer.alloc(40);
  h[0] = 0x60;
  h[6] = frag ? 44 : p.proto === 1 ? PROTO_ICMPV6 : p.proto;
  h[7] = 64;
  h.set(src.bytes, 8);
  h.set(dst.bytes, 24);
  let ext = Buffer.alloc(0);
  if (frag) {
    ext = Buffer.alloc(8);
    ext[0] = p.proto;
    ext.writeUInt16BE(((p.fragOffset ?? 0) << 3) | (p.moreFragments ? 1 : 0), 2);
  }
  h.writeUInt16BE(ext.length + body.length, 4);
  return Buffer.concat([h, ext, body]);
}

export function frame(p: PacketSpec): Buffer {
  const eth = Buffer.alloc(14);
  eth.set([2, 0, 0, 0, 0, 2], 0);
  eth.set([2, 0, 0, 0, 0, 1], 6);
  eth.writeUInt16BE(parseAddr(p.src).family === 4 ? 0x0800 : 0x86dd, 12);
  return Buffer.concat([eth, ip(p)]);
}

export function arpFrame(): Buffer {
  const f = Buffer.alloc(42);
  f.writeUInt16BE(0x0806, 12);
  return f;
}
