// Site-to-site mesh: what a site reports to the hub (MeshReport on site/<id>/mesh, retained) and the
// address plan both sides share. Pure.
//
// Mapped addresses (why not the pod addresses themselves): sites are stamped from one template, so two
// sites may both run pods in 10.42.0.0/24. Each enrolled site owns one block of the mapped pool, chosen
// by its overlay index (no second allocator, no collision: the hub already keeps indexes unique). A
// linked site reaches pod 10.42.0.7 of site n at  block(n).base + (10.42.0.7 - exportPrefix.base).
// The site exports one prefix (its node's pod range), no larger than a block; nftables netmaps it
// 1:1 (`dnat ip prefix to`) on the way in and maps the local sources out (`snat ip prefix to`).
import { cidrContains, formatCidr, formatIp, parseCidr, parseIp, type Cidr } from '../base/pure.ts';

export type PathState = 'direct' | 'relayed' | 'down';

/** One linked peer's path as the site sees it. */
export interface MeshPathReport {
  peer: string;
  state: PathState;
  /** Seconds since the last handshake on the direct path; null before the first. */
  handshakeAgeS: number | null;
  /** ISO time the state was entered. */
  since: string;
}

export interface MeshReport {
  v: 1;
  at: string;
  /** The prefix the site offers its linked sites (its pods), null when it offers nothing. */
  exportPrefix: string | null;
  /** Endpoints the site knows itself by ("ip:port", e.g. its LAN address): tried besides what the hub observed. */
  endpoints: string[];
  namespaces: { name: string; labels: Record<string, string> }[];
  /** Pods inside exportPrefix, with their real addresses; the hub maps them per site. */
  pods: { namespace: string; name: string; labels: Record<string, string>; ips: string[] }[];
  paths: MeshPathReport[];
}

/** The mapped pool and block size. Default: 100.64.0.0/10 in /24 blocks (16 384 sites of up to 256 pods). */
export class MappedPlan {
  readonly pool: Cidr;
  constructor(
    pool = '100.64.0.0/10',
    readonly blockLen = 24,
  ) {
    const c = parseCidr(pool);
    if (!c || c.family !== 4 || blockLen < c.len || blockLen > 30) throw new RangeError(`mapped pool ${pool} with /${blockLen} blocks is not an IPv4 pool`);
    this.pool = c;
  }

  get poolPrefix(): string {
    return formatCidr(this.pool);
  }

  /** How many sites the pool holds. */
  get blocks(): number {
    return 2 ** (this.blockLen - this.pool.len);
  }

  /** Site n's block (n = its overlay index, >= 1). */
  block(index: number): string {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.blocks)
      throw new RangeError(`overlay index ${index} has no block in ${formatCidr(this.pool)}`);
    return formatCidr({ family: 4, base: this.pool.base + (BigInt(index) << BigInt(32 - this.blockLen)), len: this.blockLen });
  }
}

/** Why an export prefix cannot be mapped into a block of `blockLen`, or null when it can. */
export function exportProblem(exportPrefix: string, blockLen: number): string | null {
  const c = parseCidr(exportPrefix);
  if (!c || c.family !== 4) return `export prefix ${exportPrefix} is not an IPv4 prefix`;
  if (c.len < blockLen) return `export prefix ${exportPrefix} is larger than a mapped block (/${blockLen})`;
  return null;
}

/** The mapped address of a real address inside the export prefix; null outside it. */
export function mapAddress(ip: string, exportPrefix: string, mappedBlock: string): string | null {
  const e = parseCidr(exportPrefix);
  const m = parseCidr(mappedBlock);
  const a = parseIp(ip);
  if (!e || !m || !a || !cidrContains(e, a) || e.len < m.len) return null;
  return formatIp(4, m.base + (a.value - e.base));
}

/** The prefix of the mapped block an export prefix lands on (same length as the export prefix). */
export function mappedPrefix(exportPrefix: string, mappedBlock: string): string | null {
  const e = parseCidr(exportPrefix);
  const m = parseCidr(mappedBlock);
  if (!e || !m || e.family !== 4 || e.len < m.len) return null;
  return formatCidr({ family: 4, base: m.base, len: e.len });
}

/** The DNS zone linked sites' services are named in: <service>.<site>.mesh.weft.internal */
export const MESH_ZONE = 'mesh.weft.internal';
