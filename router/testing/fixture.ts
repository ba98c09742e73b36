// A small world for the router's tests: four sites in Europe and one in the US, a geo database
// placing client networks in their cities, and an ops CIDR map. The benchmark builds a bigger one.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RoutableSite } from '../sites-view.ts';
import { cityRecord, writeMmdb } from './mmdb-writer.ts';
import { site } from './memory-sites-view.ts';

export const CITIES = {
  paris: { lat: 48.8566, lon: 2.3522 },
  berlin: { lat: 52.52, lon: 13.405 },
  madrid: { lat: 40.4168, lon: -3.7038 },
  lyon: { lat: 45.764, lon: 4.8357 },
  nyc: { lat: 40.7128, lon: -74.006 },
} as const;

/** One site per city offering `pos` (A and AAAA) with a URL; paris also has its own Wi-Fi network. */
export function worldSites(): RoutableSite[] {
  return Object.entries(CITIES).map(([id, p], i) =>
    site(id, p.lat, p.lon, {
      clientCidrs: id === 'paris' ? ['10.99.0.0/16'] : [],
      services: [{ name: 'pos', addresses: [`192.0.2.${i + 1}`, `2001:db8::${i + 1}`], url: `https://${id}.example.net/base/` }],
    }),
  );
}

/** Client networks the geo database places in each city. */
export const GEO_NETS: Record<keyof typeof CITIES, string> = {
  paris: '198.51.100.0/26',
  berlin: '198.51.100.64/26',
  madrid: '198.51.100.128/26',
  lyon: '198.51.100.192/26',
  nyc: '203.0.113.0/24',
};

export interface GeoDbFile {
  path: string;
  cleanup(): void;
}

export function writeWorldGeoDb(): GeoDbFile {
  const dir = mkdtempSync(join(tmpdir(), 'weft-router-geo-'));
  const path = join(dir, 'city.mmdb');
  const nets = Object.entries(GEO_NETS).map(([city, cidr]) => {
    const p = CITIES[city as keyof typeof CITIES];
    return { cidr, data: cityRecord(city, city === 'nyc' ? 'US' : 'EU', p.lat, p.lon) };
  });
  nets.push({ cidr: '2001:db8:beef::/48', data: cityRecord('berlin', 'DE', CITIES.berlin.lat, CITIES.berlin.lon) });
  writeFileSync(path, writeMmdb(nets, { databaseType: 'GeoLite2-City' }), { mode: 0o600 });
  return { path, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
