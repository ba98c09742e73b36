// Validation and capacity check of a table set, done before anything is written: a table set that
// does not fit is rejected whole (never a partial apply, never "drop everything" on overflow).
import type { MapLimits, Tables } from '../policy/index.ts';
import { DatapathError } from './errors.ts';
import { formatError, type CidrBytes, type IpBytes, parseIpBytes, parsePrefixBytes } from '../base/index.ts';

/** A table's address, in the bytes the kernel maps key on; DATAPATH_INVALID_TABLES if it is not one. */
export function tableAddr(s: string): IpBytes {
  const a = parseIpBytes(s, { zone: true });
  if (!a) throw new DatapathError('DATAPATH_INVALID_TABLES', `not an IP address: ${JSON.stringify(s)}`, 'use a dotted IPv4 or a colon-separated IPv6 address');
  return a;
}

/** A table's prefix (a bare address is a host prefix), host bits as written: the key encoder masks them. */
export function tablePrefix(s: string): CidrBytes {
  const slash = s.indexOf('/');
  const addr = tableAddr(slash < 0 ? s : s.slice(0, slash));
  const p = parsePrefixBytes(s, { bare: true, zone: true });
  if (!p)
    throw new DatapathError('DATAPATH_INVALID_TABLES', `bad prefix length in ${JSON.stringify(s)}`, `the length must be 0..${addr.family === 4 ? 32 : 128}`);
  return p;
}

/** Entries each kernel map needs for these tables. */
export interface TableNeeds {
  /** One entry per endpoint IP. */
  endpoints: number;
  ipcache: number;
  /** The sets map is an array indexed by set id: it needs max id + 1 slots. */
  sets: number;
  rules: number;
}

export function tableNeeds(t: Tables): TableNeeds {
  return {
    endpoints: t.endpoints.reduce((n, e) => n + e.ips.length, 0),
    ipcache: t.ipcache.length,
    sets: t.sets.reduce((m, s) => Math.max(m, s.id + 1), 1),
    rules: t.rules.length,
  };
}

const u32 = (n: number) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;

function invalid(path: string, message: string, hint: string): never {
  throw new DatapathError('DATAPATH_INVALID_TABLES', `tables.${path}: ${message}`, hint);
}

export function checkTables(t: Tables, limits: MapLimits): void {
  if (t.version !== 1) invalid('version', `unsupported version ${String(t.version)}`, 'this datapath loads tables version 1');
  const need = tableNeeds(t);
  const over = (Object.keys(need) as (keyof TableNeeds)[]).filter((k) => need[k] > limits[k]);
  if (over.length) {
    const what = over.map((k) => `${k} needs ${need[k]} > limit ${limits[k]}`).join(', ');
    throw new DatapathError(
      'DATAPATH_CAPACITY',
      `tables do not fit the datapath maps: ${what}; nothing was applied`,
      'raise the map limits in the agent configuration (datapath.limits) or reduce the policy',
    );
  }
  const sets = new Set<number>([0]);
  t.sets.forEach((s, i) => {
    if (!u32(s.id) || s.id === 0) invalid(`sets[${i}].id`, `bad set id ${s.id}`, 'set ids are integers >= 1 (0 means no policy)');
    if (s.default.verdict !== 1 && s.default.verdict !== 2)
      invalid(`sets[${i}].default.verdict`, `bad verdict ${String(s.default.verdict)}`, 'use VERDICT_ALLOW or VERDICT_DENY');
    sets.add(s.id);
  });
  const ips = new Set<string>();
  t.endpoints.forEach((e, i) => {
    if (!u32(e.endpointId) || e.endpointId === 0) invalid(`endpoints[${i}].endpointId`, `bad endpoint id ${e.endpointId}`, 'endpoint ids are integers >= 1');
    if (!sets.has(e.ingressSet)) invalid(`endpoints[${i}].ingressSet`, `set ${e.ingressSet} is not in tables.sets`, 'every referenced set needs a SetEntry');
    if (!sets.has(e.egressSet)) invalid(`endpoints[${i}].egressSet`, `set ${e.egressSet} is not in tables.sets`, 'every referenced set needs a SetEntry');
    e.ips.forEach((ip, j) => {
      tableAddr(ip);
      if (ips.has(ip)) invalid(`endpoints[${i}].ips[${j}]`, `${ip} belongs to two endpoints`, 'an IP identifies one endpoint');
      ips.add(ip);
    });
  });
  t.ipcache.forEach((c, i) => {
    if (!u32(c.identity)) invalid(`ipcache[${i}].identity`, `bad identity ${c.identity}`, 'identities are u32');
    try {
      tablePrefix(c.cidr);
    } catch (e) {
      invalid(`ipcache[${i}].cidr`, formatError(e), 'use a.b.c.d/len or x::/len');
    }
  });
  t.rules.forEach((r, i) => {
    if (!sets.has(r.set)) invalid(`rules[${i}].set`, `set ${r.set} is not in tables.sets`, 'every referenced set needs a SetEntry');
    if (!u32(r.peer)) invalid(`rules[${i}].peer`, `bad peer identity ${r.peer}`, 'identities are u32');
    if (r.proto !== null && !(Number.isInteger(r.proto) && r.proto >= 0 && r.proto <= 255))
      invalid(`rules[${i}].proto`, `bad protocol ${r.proto}`, 'an IANA protocol number 0..255 or null');
    if (!(Number.isInteger(r.portBits) && r.portBits >= 0 && r.portBits <= 16)) invalid(`rules[${i}].portBits`, `bad port prefix ${r.portBits}`, '0..16');
    if (!(Number.isInteger(r.port) && r.port >= 0 && r.port <= 0xffff)) invalid(`rules[${i}].port`, `bad port ${r.port}`, '0..65535');
    if (r.value.verdict !== 1 && r.value.verdict !== 2)
      invalid(`rules[${i}].value.verdict`, `bad verdict ${String(r.value.verdict)}`, 'use VERDICT_ALLOW or VERDICT_DENY');
  });
}
