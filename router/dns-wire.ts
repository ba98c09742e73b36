// The query side of the DNS wire format, parsed by hand: it runs for every packet, must never throw
// on garbage, and only needs the header, the one question and the OPT record (RFC 6891) with its
// Client Subnet option (RFC 7871). Responses are encoded with dns-packet (see dns-answers.ts).
import type { IpBytes } from '../base/index.ts';

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
export const QTYPE = { A: 1, NS: 2, SOA: 6, AAAA: 28, OPT: 41, IXFR: 251, AXFR: 252, ANY: 255 } as const;
export const QCLASS_IN = 1;
export const QCLASS_ANY = 255;
const ECS_CODE = 8;
export const BADVERS = 16;

export const FLAG_QR = 0x8000;
export const FLAG_AA = 0x0400;
export const FLAG_TC = 0x0200;
export const FLAG_RD = 0x0100;

export interface ClientSubnet {
  family: 1 | 2;
  sourcePrefix: number;
  /** Address bytes as sent (ceil(sourcePrefix / 8) of them, bits past the prefix zero): echoed back. */
  raw: Buffer;
}

/** The ECS address as a full-length address (what the locator looks up). */
export function subnetIp(ecs: ClientSubnet): IpBytes {
  const bytes = new Uint8Array(ecs.family === 1 ? 4 : 16);
  bytes.set(ecs.raw);
  return { family: ecs.family === 1 ? 4 : 6, bytes };
}

export interface Edns {
  udpSize: number;
  version: number;
  dnssecOk: boolean;
  ecs: ClientSubnet | null;
}

export interface Query {
  id: number;
  /** Flags word of the query (RD is echoed). */
  flags: number;
  /** Lower-cased wire form of the name: a cheap cache key. */
  nameKey: string;
  nameEnd: number;
  /** End of the question (name + type + class); the reply copies these bytes to keep 0x20 case. */
  questionEnd: number;
  qtype: number;
  qclass: number;
  edns: Edns | null;
}

export type Parsed =
  | { kind: 'query'; q: Query }
  /** Answer with just a header carrying this rcode (no OPT: it may be what was malformed). */
  | { kind: 'error'; id: number; flags: number; rcode: number }
  /** Not worth an answer: too short to carry an id, or itself a response (no reflection loops). */
  | { kind: 'drop' };

const MAX_NAME = 255;

/** Skips a name that may use compression pointers (only in records past the question). */
function skipName(buf: Buffer, off: number): number {
  for (let hops = 0; hops < 128; hops++) {
    if (off >= buf.length) return -1;
    const len = buf[off];
    if (len === 0) return off + 1;
    if ((len & 0xc0) === 0xc0) return off + 2 <= buf.length ? off + 2 : -1;
    if (len & 0xc0) return -1;
    off += 1 + len;
  }
  return -1;
}

function parseEcs(buf: Buffer, off: number, len: number): ClientSubnet | null {
  if (len < 4) return null;
  const family = buf.readUInt16BE(off);
  const source = buf[off + 2];
  const scope = buf[off + 3];
  const bytes = len - 4;
  const max = family === 1 ? 32 : family === 2 ? 128 : -1;
  // RFC 7871 §6: exactly ceil(source/8) address bytes, scope 0 in queries, no bits set past source.
  if (max < 0 || source > max || scope !== 0 || bytes !== Math.ceil(source / 8)) return null;
  if (source % 8 !== 0 && (buf[off + 3 + bytes] & (0xff >> (source % 8))) !== 0) return null;
  return { family: family as 1 | 2, sourcePrefix: source, raw: buf.subarray(off + 4, off + 4 + bytes) };
}

// No closures in here: under tsx every function created per call costs a keepNames wrapper.
export function parseQuery(buf: Buffer): Parsed {
  if (buf.length < 12) return { kind: 'drop' };
  const id = buf.readUInt16BE(0);
  const flags = buf.readUInt16BE(2);
  if (flags & FLAG_QR) return { kind: 'drop' };
  if (((flags >> 11) & 0xf) !== 0) return { kind: 'error', id, flags, rcode: RCODE.NOTIMP };
  const qd = buf.readUInt16BE(4);
  const an = buf.readUInt16BE(6);
  const ns = buf.readUInt16BE(8);
  const ar = buf.readUInt16BE(10);
  if (qd !== 1) return { kind: 'error', id, flags, rcode: RCODE.FORMERR };

  let off = 12;
  for (;;) {
    if (off >= buf.length) return { kind: 'error', id, flags, rcode: RCODE.FORMERR };
    const len = buf[off];
    if (len === 0) break;
    // The question is the first name in the message: nothing to point back to.
    if (len & 0xc0) return { kind: 'error', id, flags, rcode: RCODE.FORMERR };
    off += 1 + len;
    if (off - 12 > MAX_NAME - 1) return { kind: 'error', id, flags, rcode: RCODE.FORMERR };
  }
  const nameEnd = off + 1;
  if (nameEnd + 4 > buf.length) return { kind: 'error', id, flags, rcode: RCODE.FORMERR };
  const qtype = buf.readUInt16BE(nameEnd);
  const qclass = buf.readUInt16BE(nameEnd + 2);
  const questionEnd = nameEnd + 4;

  let edns: Edns | null = null;
  off = questionEnd;
  for (let i = 0; i < an + ns + ar; i++) {
    const nameStart = off;
    off = skipName(buf, off);
    if (off < 0 || off + 10 > buf.length) return { kind: 'error', id, flags, rcode: RCODE.FORMERR };
    const type = buf.readUInt16BE(off);
    const rdlen = buf.readUInt16BE(off + 8);
    const rdata = off + 10;
    if (rdata + rdlen > buf.length) return { kind: 'error', id, flags, rcode: RCODE.FORMERR };
    if (type === QTYPE.OPT) {
      // One OPT, in the additional section, owned by the root (RFC 6891 §6.1.1).
      if (edns || i < an + ns || buf[nameStart] !== 0) return { kind: 'error', id, flags, rcode: RCODE.FORMERR };
      const ttl = buf.readUInt32BE(off + 4);
      edns = { udpSize: buf.readUInt16BE(off + 2), version: (ttl >>> 16) & 0xff, dnssecOk: (ttl & 0x8000) !== 0, ecs: null };
      for (let o = rdata; o < rdata + rdlen; ) {
        if (o + 4 > rdata + rdlen) return { kind: 'error', id, flags, rcode: RCODE.FORMERR };
        const code = buf.readUInt16BE(o);
        const olen = buf.readUInt16BE(o + 2);
        if (o + 4 + olen > rdata + rdlen) return { kind: 'error', id, flags, rcode: RCODE.FORMERR };
        if (code === ECS_CODE) {
          if (edns.ecs) return { kind: 'error', id, flags, rcode: RCODE.FORMERR };
          edns.ecs = parseEcs(buf, o + 4, olen);
          if (!edns.ecs) return { kind: 'error', id, flags, rcode: RCODE.FORMERR };
        }
        o += 4 + olen;
      }
    }
    off = rdata + rdlen;
  }
  return { kind: 'query', q: { id, flags, nameKey: buf.toString('latin1', 12, nameEnd).toLowerCase(), nameEnd, questionEnd, qtype, qclass, edns } };
}

/** True when every label of the question holds only letters, digits, '-' and '_' (what zones name). */
export function plainName(buf: Buffer, q: Query): boolean {
  for (let i = 12; i < q.nameEnd - 1; ) {
    const end = i + 1 + buf[i];
    for (let j = i + 1; j < end; j++) {
      const c = buf[j] | 0x20;
      if (!((c >= 0x61 && c <= 0x7a) || (buf[j] >= 0x30 && buf[j] <= 0x39) || buf[j] === 0x2d || buf[j] === 0x5f)) return false;
    }
    i = end;
  }
  return true;
}

/** The dotted, lower-case name of the question ('' for the root); labels with dots are escaped. */
export function questionName(buf: Buffer, q: Query): string {
  const labels: string[] = [];
  for (let off = 12; buf[off] !== 0; off += 1 + buf[off])
    labels.push(
      buf
        .toString('latin1', off + 1, off + 1 + buf[off])
        .toLowerCase()
        .replace(/[.\\]/g, (c: string) => `\\${c}`),
    );
  return labels.join('.');
}

/** Length of the OPT record writeOpt appends. */
export function optLength(edns: Edns): number {
  return 11 + (edns.ecs ? 8 + edns.ecs.raw.length : 0);
}

/** Writes our OPT record at `off`: our UDP size, DO echoed (RFC 3225), ECS echoed with its scope. */
export function writeOpt(out: Buffer, off: number, edns: Edns, udpSize: number, scope: number, badVersion = false): void {
  out[off] = 0;
  out.writeUInt16BE(QTYPE.OPT, off + 1);
  out.writeUInt16BE(udpSize, off + 3);
  out.writeUInt32BE(((badVersion ? BADVERS >> 4 : 0) << 24) | (edns.dnssecOk ? 0x8000 : 0), off + 5);
  const ecs = edns.ecs;
  if (!ecs) {
    out.writeUInt16BE(0, off + 9);
    return;
  }
  out.writeUInt16BE(8 + ecs.raw.length, off + 9);
  out.writeUInt16BE(ECS_CODE, off + 11);
  out.writeUInt16BE(4 + ecs.raw.length, off + 13);
  out.writeUInt16BE(ecs.family, off + 15);
  out[off + 17] = ecs.sourcePrefix;
  out[off + 18] = scope;
  ecs.raw.copy(out, off + 19);
}
