// The tables indexed for in-memory lookups with the kernel's semantics: exact endpoint match,
// longest-prefix ipcache match, longest-prefix rule match over [set][peer][proto][port BE].
import { IDENTITY_WORLD, type EndpointEntry, type RuleValue, type Tables } from '../policy/index.ts';
import { type IpBytes as Addr, maskBytes } from '../base/index.ts';
import { tableAddr as parseAddr, tablePrefix as parsePrefix } from './check-tables.ts';

export class TableIndex {
  private readonly endpoints = new Map<string, EndpointEntry>();
  /** family -> prefix length -> masked address -> identity, lengths sorted longest first. */
  private readonly ipcache = new Map<4 | 6, { lens: number[]; byLen: Map<number, Map<string, number>> }>();
  private readonly sets = new Map<number, RuleValue>();
  /** `${set}/${peer}/${proto}/${portBits}/${masked port}` and `${set}/${peer}/*` -> value */
  private readonly rules = new Map<string, RuleValue>();

  constructor(readonly tables: Tables) {
    for (const e of tables.endpoints) for (const ip of e.ips) this.endpoints.set(addrKey(parseAddr(ip)), e);
    for (const c of tables.ipcache) {
      const p = parsePrefix(c.cidr);
      let fam = this.ipcache.get(p.family);
      if (!fam) this.ipcache.set(p.family, (fam = { lens: [], byLen: new Map() }));
      let m = fam.byLen.get(p.len);
      if (!m) {
        fam.byLen.set(p.len, (m = new Map()));
        fam.lens.push(p.len);
        fam.lens.sort((a, b) => b - a);
      }
      m.set(maskedHex(p.bytes, p.len), c.identity);
    }
    for (const s of tables.sets) this.sets.set(s.id, s.default);
    for (const r of tables.rules) {
      const key = r.proto === null ? `${r.set}/${r.peer}/*` : `${r.set}/${r.peer}/${r.proto}/${r.portBits}/${maskPort(r.port, r.portBits)}`;
      this.rules.set(key, r.value);
    }
  }

  endpoint(a: Addr): EndpointEntry | undefined {
    return this.endpoints.get(addrKey(a));
  }

  /** The peer identity: the longest ipcache prefix covering the address, else the world. */
  identity(a: Addr): number {
    const fam = this.ipcache.get(a.family);
    if (fam) {
      for (const len of fam.lens) {
        const id = fam.byLen.get(len)!.get(maskedHex(a.bytes, len));
        if (id !== undefined) return id;
      }
    }
    return IDENTITY_WORLD;
  }

  setDefault(set: number): RuleValue | undefined {
    return this.sets.get(set);
  }

  /** Longest-prefix rule match; `port` is 0 for protocols without ports. */
  rule(set: number, peer: number, proto: number, port: number): RuleValue | undefined {
    for (let bits = 16; bits >= 0; bits--) {
      const v = this.rules.get(`${set}/${peer}/${proto}/${bits}/${maskPort(port, bits)}`);
      if (v) return v;
    }
    return this.rules.get(`${set}/${peer}/*`);
  }
}

function addrKey(a: Addr): string {
  return `${a.family}:${maskedHex(a.bytes, a.bytes.length * 8)}`;
}

function maskPort(port: number, bits: number): number {
  return bits === 0 ? 0 : port & ((0xffff << (16 - bits)) & 0xffff);
}

/** The address with every bit past `len` cleared, as a lowercase hex string (a map key). */
function maskedHex(bytes: Uint8Array, len: number): string {
  return Buffer.from(maskBytes(bytes, len)).toString('hex');
}
