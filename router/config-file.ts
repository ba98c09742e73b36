// The router's settings from a YAML (or JSON) file, for `weft-hub --router-config <file>`: ops keep
// the CIDR map, regions, geo database and failure mode in one reviewed file. Every mistake is a
// RouterConfigError naming the file and the path inside it, with a hint; never a stack trace.
import { errorMessage } from '../base/index.ts';
import { accessSync, constants, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { resolveConfig, RouterConfigError, type RouterSettings } from './config.ts';

type Kind = 'string' | 'number' | 'latlon' | 'dns' | 'cidrMap' | 'nameservers' | 'regions' | 'limits';

const KEYS: Record<keyof RouterSettings, Kind> = {
  zone: 'string',
  dns: 'dns',
  ttl: 'number',
  negativeTtl: 'number',
  answerSites: 'number',
  nameservers: 'nameservers',
  hostmaster: 'string',
  cidrMap: 'cidrMap',
  regions: 'regions',
  geoDbPath: 'string',
  defaultLocation: 'latlon',
  noHealthySite: 'string',
  distanceGranularityKm: 'number',
  loadGranularity: 'number',
  udpPayloadSize: 'number',
  limits: 'limits',
};

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function bad(path: string, want: string, hint?: string): RouterConfigError {
  return new RouterConfigError('ROUTER_BAD_OPTION', path, `want ${want}`, hint);
}

/** Checks that a map has only `fields`, each of the given primitive type (optional when marked '?'). */
function fields(v: unknown, path: string, spec: Record<string, string>): void {
  if (!isMap(v)) throw bad(path, `a mapping with ${Object.keys(spec).join(', ')}`);
  for (const k of Object.keys(v)) if (!(k in spec)) throw bad(`${path}.${k}`, `one of ${Object.keys(spec).join(', ')}`);
  for (const [k, t] of Object.entries(spec)) {
    const optional = t.endsWith('?');
    const type = t.replace('?', '');
    const x = v[k];
    if (x === undefined && optional) continue;
    if (type === 'string[]' ? !(Array.isArray(x) && x.every((e) => typeof e === 'string')) : typeof x !== type) throw bad(`${path}.${k}`, `a ${type}`);
  }
}

function check(kind: Kind, v: unknown, path: string): void {
  switch (kind) {
    case 'string':
    case 'number':
      if (typeof v !== kind) throw bad(path, `a ${kind}`);
      return;
    case 'latlon':
      return fields(v, path, { lat: 'number', lon: 'number' });
    case 'dns':
      return fields(v, path, { host: 'string?', port: 'number?', workers: 'number?' });
    case 'cidrMap':
      if (!Array.isArray(v)) throw bad(path, 'a list', 'e.g. cidrMap: [{ cidr: 10.20.0.0/16, site: store-042 }]');
      return v.forEach((e, i) => fields(e, `${path}[${i}]`, { cidr: 'string', site: 'string?', region: 'string?' }));
    case 'nameservers':
      if (!Array.isArray(v)) throw bad(path, 'a list', 'e.g. nameservers: [{ name: ns1.svc.example.com, addresses: [203.0.113.53] }]');
      return v.forEach((e, i) => fields(e, `${path}[${i}]`, { name: 'string', addresses: 'string[]?' }));
    case 'limits': {
      if (!isMap(v)) throw bad(path, 'a mapping of DNS limits');
      const { rrl, ...rest } = v;
      fields(rest, path, {
        tcpMessageDeadlineMs: 'number?',
        tcpMaxConnections: 'number?',
        tcpConnectionsPerAddress: 'number?',
        answerCacheNames: 'number?',
      });
      if (rrl !== undefined && rrl !== false) fields(rrl, `${path}.rrl`, { responsesPerSecond: 'number?', slip: 'number?', exempt: 'string[]?' });
      return;
    }
    case 'regions':
      if (!isMap(v)) throw bad(path, 'a mapping of region name to { lat, lon }');
      return Object.entries(v).forEach(([name, p]) => fields(p, `${path}.${name}`, { lat: 'number', lon: 'number' }));
  }
}

/**
 * Parses and validates router settings; `file` is for messages and for a relative geoDbPath.
 * `overrides` (command-line flags) win over the file and are validated with it.
 */
export function parseRouterSettings(text: string, file: string, overrides: Partial<RouterSettings> = {}): RouterSettings {
  try {
    let doc: unknown;
    try {
      doc = parse(text);
    } catch (err) {
      throw new RouterConfigError('ROUTER_BAD_OPTION', '', `not YAML: ${errorMessage(err).split('\n')[0]}`);
    }
    if (!isMap(doc)) throw bad('', 'a mapping of router settings', 'at least: zone: svc.example.com');
    for (const [k, v] of Object.entries(doc)) {
      const kind = KEYS[k as keyof RouterSettings];
      if (!kind) throw new RouterConfigError('ROUTER_BAD_OPTION', k, 'unknown setting', `known: ${Object.keys(KEYS).join(', ')}`);
      check(kind, v, k);
    }
    const settings = { ...(doc as RouterSettings), ...overrides, dns: { ...(doc.dns as RouterSettings['dns']), ...overrides.dns } };
    if (settings.geoDbPath) {
      settings.geoDbPath = resolve(dirname(file), settings.geoDbPath);
      try {
        accessSync(settings.geoDbPath, constants.R_OK);
      } catch (err) {
        throw new RouterConfigError(
          'ROUTER_GEO_DB',
          'geoDbPath',
          `cannot read ${settings.geoDbPath}: ${(err as NodeJS.ErrnoException).code}`,
          'a MaxMind-format City database (GeoLite2-City.mmdb or compatible); relative paths are from this file',
        );
      }
    }
    if (!settings.zone) throw new RouterConfigError('ROUTER_BAD_ZONE', 'zone', 'missing', 'zone: svc.example.com in the file, or --zone');
    resolveConfig(settings);
    return settings;
  } catch (err) {
    throw err instanceof RouterConfigError ? err.inFile(file) : err;
  }
}

export function loadRouterSettings(file: string, overrides: Partial<RouterSettings> = {}): RouterSettings {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new RouterConfigError('ROUTER_BAD_OPTION', '', `cannot read: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`, undefined, file);
  }
  return parseRouterSettings(text, file, overrides);
}
