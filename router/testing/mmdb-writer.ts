// A tiny writer for the MaxMind DB format (https://maxmind.github.io/MaxMind-DB/), so tests and the
// benchmark can build a geo database with known networks and read it back with the `maxmind` package
// (and PowerDNS's geoip backend, through libmaxminddb). IPv6 tree, IPv4 under ::/96, 24-bit records.
import { parseCidrBytes, SOCKET_ADDRESS } from '../../base/index.ts';

/** A number written as an IEEE double (coordinates); plain integers are written as uint32. */
export class F64 {
  constructor(readonly value: number) {}
}

/** Integers of a declared width: libmaxminddb checks the metadata's types strictly. */
export class U16 {
  constructor(readonly value: number) {}
}
export class U64 {
  constructor(readonly value: number) {}
}

export type MmdbValue = string | number | boolean | F64 | U16 | U64 | MmdbValue[] | { [k: string]: MmdbValue };

export interface MmdbNetwork {
  cidr: string;
  data: { [k: string]: MmdbValue };
}

const enum T {
  Pointer = 1,
  Utf8 = 2,
  Double = 3,
  Uint16 = 5,
  Uint32 = 6,
  Map = 7,
  Uint64 = 9,
  Array = 11,
  Boolean = 14,
}

function control(type: T, size: number): Buffer {
  const head: number[] = [];
  let sizeBytes: number[] = [];
  let s = size;
  if (size >= 65821) {
    s = 31;
    const v = size - 65821;
    sizeBytes = [(v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];
  } else if (size >= 285) {
    s = 30;
    const v = size - 285;
    sizeBytes = [(v >> 8) & 0xff, v & 0xff];
  } else if (size >= 29) {
    s = 29;
    sizeBytes = [size - 29];
  }
  if (type <= 7) head.push((type << 5) | s);
  else head.push(s, type - 7);
  return Buffer.from([...head, ...sizeBytes]);
}

function uintBytes(v: number | bigint, max: number): Buffer {
  let n = BigInt(v);
  const out: number[] = [];
  while (n > 0n && out.length < max) {
    out.unshift(Number(n & 0xffn));
    n >>= 8n;
  }
  return Buffer.from(out);
}

export function encodeValue(v: MmdbValue): Buffer {
  if (v instanceof F64) {
    const b = Buffer.alloc(8);
    b.writeDoubleBE(v.value);
    return Buffer.concat([control(T.Double, 8), b]);
  }
  if (v instanceof U16 || v instanceof U64) {
    const b = uintBytes(v.value, v instanceof U16 ? 2 : 8);
    return Buffer.concat([control(v instanceof U16 ? T.Uint16 : T.Uint64, b.length), b]);
  }
  if (typeof v === 'string') {
    const b = Buffer.from(v, 'utf8');
    return Buffer.concat([control(T.Utf8, b.length), b]);
  }
  if (typeof v === 'boolean') return control(T.Boolean, v ? 1 : 0);
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0) return encodeValue(new F64(v));
    const b = uintBytes(v, 8);
    return Buffer.concat([control(v > 0xffffffff ? T.Uint64 : T.Uint32, b.length), b]);
  }
  if (Array.isArray(v)) return Buffer.concat([control(T.Array, v.length), ...v.map(encodeValue)]);
  const keys = Object.keys(v);
  return Buffer.concat([control(T.Map, keys.length), ...keys.flatMap((k) => [encodeValue(k), encodeValue(v[k])])]);
}

interface Node {
  children: [Node | number | null, Node | number | null];
}

/** Builds a database; where networks nest, the more specific one wins inside it. */
export function writeMmdb(networks: MmdbNetwork[], meta: { databaseType: string; description?: string }): Buffer {
  // Data section: each distinct record once.
  const offsets = new Map<string, number>();
  const chunks: Buffer[] = [];
  let dataLen = 0;
  const dataOffset = (d: MmdbNetwork['data']): number => {
    const key = JSON.stringify(d, (_k, val: unknown) =>
      val instanceof F64 || val instanceof U16 || val instanceof U64 ? { [val.constructor.name]: val.value } : val,
    );
    const have = offsets.get(key);
    if (have !== undefined) return have;
    const b = encodeValue(d);
    offsets.set(key, dataLen);
    chunks.push(b);
    dataLen += b.length;
    return dataLen - b.length;
  };

  const root: Node = { children: [null, null] };
  const sorted = networks.map((n) => ({ n, c: parseCidrBytes(n.cidr, { bare: true, ...SOCKET_ADDRESS }) })).sort((a, b) => (a.c?.len ?? 0) - (b.c?.len ?? 0));
  for (const { n, c } of sorted) {
    if (!c) throw new Error(`mmdb writer: bad network ${n.cidr}`);
    const bits = c.family === 4 ? 96 + c.len : c.len;
    const bit = (i: number) => (c.family === 4 ? (i < 96 ? 0 : (c.bytes[(i - 96) >> 3] >> (7 - ((i - 96) & 7))) & 1) : (c.bytes[i >> 3] >> (7 - (i & 7))) & 1);
    const off = dataOffset(n.data);
    let node = root;
    for (let i = 0; i < bits - 1; i++) {
      const b = bit(i);
      const child = node.children[b];
      if (child === null || typeof child === 'number') {
        // Split a less specific network: both halves keep its data until overwritten.
        const next: Node = { children: [child, child] };
        node.children[b] = next;
        node = next;
      } else node = child;
    }
    node.children[bit(bits - 1)] = off;
  }

  // Number nodes breadth first; then records are node numbers, data pointers or "empty".
  const order: Node[] = [];
  const index = new Map<Node, number>();
  for (let q = [root]; q.length > 0; ) {
    const n = q.shift() as Node;
    index.set(n, order.length);
    order.push(n);
    for (const c of n.children) if (c !== null && typeof c !== 'number') q.push(c);
  }
  const nodeCount = order.length;
  const tree = Buffer.alloc(nodeCount * 6);
  order.forEach((n, i) => {
    n.children.forEach((c, side) => {
      const rec = c === null ? nodeCount : typeof c === 'number' ? nodeCount + 16 + c : (index.get(c) as number);
      tree.writeUIntBE(rec, i * 6 + side * 3, 3);
    });
  });
  const metadata = encodeValue({
    node_count: nodeCount,
    record_size: new U16(24),
    ip_version: new U16(6),
    database_type: meta.databaseType,
    languages: ['en'],
    binary_format_major_version: new U16(2),
    binary_format_minor_version: new U16(0),
    build_epoch: new U64(1_700_000_000),
    description: { en: meta.description ?? 'weft test database' },
  });
  return Buffer.concat([tree, Buffer.alloc(16), ...chunks, Buffer.from('\xab\xcd\xefMaxMind.com', 'latin1'), metadata]);
}

/** A GeoLite2-City-shaped record (typed as MaxMind's own databases are). */
export function cityRecord(city: string, country: string, lat: number, lon: number): MmdbNetwork['data'] {
  return {
    city: { names: { en: city } },
    country: { iso_code: country, names: { en: country } },
    location: { latitude: new F64(lat), longitude: new F64(lon), accuracy_radius: new U16(50) },
  };
}
