// The sites a standalone router (weft-router --sites <file>) steers to, from a YAML or JSON file: the
// same records the hub store holds (GET /v1/sites gives them, `weft sites list --json` too), so a
// router beside the hub can run without a database. Health never comes from here: the broker says it.
// Every mistake is a RouterConfigError naming the file and the path inside it.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { errorMessage, parseIpBytes, SOCKET_ADDRESS } from '../base/index.ts';
import { RouterConfigError } from './config.ts';
import { validLatLon } from './geo.ts';
import type { SiteRecord } from './health/index.ts';

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function bad(path: string, want: string, hint?: string): RouterConfigError {
  return new RouterConfigError('ROUTER_BAD_SITE', path, `want ${want}`, hint);
}

const str = (v: unknown, path: string): string => {
  if (typeof v !== 'string' || v === '') throw bad(path, 'a non-empty string');
  return v;
};

const strings = (v: unknown, path: string): string[] => {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((e) => typeof e === 'string')) throw bad(path, 'a list of strings');
  return v;
};

function services(v: unknown, path: string): SiteRecord['services'] {
  if (!Array.isArray(v)) throw bad(path, 'a list', 'e.g. services: [{ name: pos, addresses: [10.42.0.5], url: https://store-042.example.com }]');
  return v.map((s, i) => {
    const p = `${path}[${i}]`;
    if (!isMap(s)) throw bad(p, 'a mapping with name, addresses, url');
    const addresses = strings(s.addresses, `${p}.addresses`);
    addresses.forEach((a, j) => {
      if (!parseIpBytes(a, SOCKET_ADDRESS)) throw new RouterConfigError('ROUTER_BAD_SITE', `${p}.addresses[${j}]`, `"${a}" is not an IP address`);
    });
    return { name: str(s.name, `${p}.name`).toLowerCase(), addresses, ...(s.url === undefined ? {} : { url: str(s.url, `${p}.url`) }) };
  });
}

function site(v: unknown, path: string): SiteRecord {
  if (!isMap(v)) throw bad(path, 'a site: { id, lat, lon, services, ... }');
  const id = str(v.id ?? v.name, `${path}.id`);
  const pos = { lat: v.lat, lon: v.lon };
  if (typeof pos.lat !== 'number' || typeof pos.lon !== 'number' || !validLatLon({ lat: pos.lat, lon: pos.lon }))
    throw new RouterConfigError('ROUTER_BAD_LOCATION', path, 'needs lat in [-90, 90] and lon in [-180, 180]');
  const capacity = v.capacity ?? 1;
  if (typeof capacity !== 'number' || !(capacity > 0)) throw bad(`${path}.capacity`, 'a number > 0');
  const labels = v.labels ?? {};
  if (!isMap(labels) || !Object.values(labels).every((l) => typeof l === 'string')) throw bad(`${path}.labels`, 'a mapping of strings');
  // The hub's records say `drained`; the router's say `draining`: either is accepted.
  const draining = v.draining ?? v.drained ?? false;
  if (typeof draining !== 'boolean') throw bad(`${path}.draining`, 'true or false');
  return {
    id,
    name: typeof v.name === 'string' ? v.name : id,
    labels: labels as Record<string, string>,
    lat: pos.lat,
    lon: pos.lon,
    clientCidrs: strings(v.clientCidrs, `${path}.clientCidrs`),
    capacity,
    services: services(v.services ?? [], `${path}.services`),
    draining,
  };
}

/** Parses site records; `{ sites: [...] }` (the hub's GET /v1/sites) or a bare list. Revoked sites are left out. */
export function parseSitesFile(text: string, file: string): SiteRecord[] {
  try {
    let doc: unknown;
    try {
      doc = parse(text);
    } catch (err) {
      throw new RouterConfigError('ROUTER_BAD_SITE', '', `not YAML or JSON: ${errorMessage(err).split('\n')[0]}`);
    }
    const list = isMap(doc) ? doc.sites : doc;
    if (!Array.isArray(list)) throw bad('', 'a list of sites, or { sites: [...] }');
    const seen = new Set<string>();
    return list.flatMap((v, i) => {
      if (isMap(v) && v.state === 'revoked') return [];
      const s = site(v, `sites[${i}]`);
      if (seen.has(s.id)) throw new RouterConfigError('ROUTER_BAD_SITE', `sites[${i}].id`, `site ${s.id} is listed twice`);
      seen.add(s.id);
      return [s];
    });
  } catch (err) {
    throw err instanceof RouterConfigError ? err.inFile(file) : err;
  }
}

export function loadSitesFile(file: string): SiteRecord[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new RouterConfigError('ROUTER_BAD_SITE', '', `cannot read: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`, undefined, file);
  }
  return parseSitesFile(text, file);
}
