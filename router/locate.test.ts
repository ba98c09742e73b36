// Locating clients: CIDR map first, then a real MaxMind-format database (built here, read back with
// the maxmind package), then the default; with the ECS scope each answer holds for.
import { readFileSync } from 'node:fs';
import { Reader, type CityResponse } from 'maxmind';
import { afterAll, describe, expect, it } from 'vitest';
import { parseIpBytes, type IpBytes, SOCKET_ADDRESS } from '../base/index.ts';
import { Locator } from './locate.ts';
import { site } from './testing/memory-sites-view.ts';
import { CITIES, writeWorldGeoDb } from './testing/fixture.ts';
import { cityRecord, writeMmdb } from './testing/mmdb-writer.ts';

const geo = writeWorldGeoDb();
afterAll(() => geo.cleanup());
const db = new Reader<CityResponse>(readFileSync(geo.path));
const paris = site('paris', CITIES.paris.lat, CITIES.paris.lon, { clientCidrs: ['10.99.0.0/16'] });
const ip = (s: string) => parseIpBytes(s, SOCKET_ADDRESS) as IpBytes;

function locator(defaultLocation = CITIES.berlin as { lat: number; lon: number } | null) {
  const l = new Locator(
    {
      cidrMap: [
        { cidr: '10.20.0.0/16', region: 'south' },
        { cidr: '198.51.100.0/28', site: 'paris' },
      ],
      regions: { south: CITIES.madrid },
      defaultLocation,
      geoDb: db,
    },
    (id) => (id === 'paris' ? paris : undefined),
  );
  l.syncSites([paris]);
  return l;
}

describe('mmdb writer', () => {
  it('writes what maxmind reads back, nested networks included', () => {
    const r = new Reader<CityResponse>(
      writeMmdb(
        [
          { cidr: '10.0.0.0/8', data: cityRecord('Wide', 'US', 40.5, -74.25) },
          { cidr: '10.1.0.0/16', data: cityRecord('Narrow', 'FR', 48.5, 2.5) },
          { cidr: '2001:db8::/32', data: { flag: true, n: 70000, list: ['a', 'b'] } },
        ],
        { databaseType: 'Test-City' },
      ),
    );
    expect(r.metadata.databaseType).toBe('Test-City');
    expect(r.getWithPrefixLength('10.1.2.3')).toEqual([
      {
        city: { names: { en: 'Narrow' } },
        country: { iso_code: 'FR', names: { en: 'FR' } },
        location: { latitude: 48.5, longitude: 2.5, accuracy_radius: 50 },
      },
      16,
    ]);
    expect(r.get('10.200.0.1')?.city?.names.en).toBe('Wide');
    expect(r.getWithPrefixLength('10.0.0.1')[1]).toBe(16);
    expect(r.get('11.0.0.1')).toBeNull();
    expect(r.get('2001:db8::5')).toEqual({ flag: true, n: 70000, list: ['a', 'b'] });
  });
});

describe('Locator', () => {
  it.each([
    ['ops CIDR map to a region', '10.20.5.5', { method: 'cidr-region', bucket: 'region:south', scope: 16, point: CITIES.madrid }],
    ["a site's own client network", '10.99.200.1', { method: 'cidr-site', bucket: 'site:paris', siteId: 'paris', scope: 16 }],
    ['CIDR map before the geo database', '198.51.100.3', { method: 'cidr-site', bucket: 'site:paris', scope: 28 }],
    [
      'geo database, with the CIDR map entry inside its network lengthening the scope',
      '198.51.100.40',
      { method: 'geo-db', network: '198.51.100.0/26', place: 'paris', scope: 27 },
    ],
    ['geo database, plain', '203.0.113.9', { method: 'geo-db', network: '203.0.113.0/24', scope: 24, point: CITIES.nyc }],
    ['geo database, IPv6', '2001:db8:beef::1', { method: 'geo-db', scope: 48, point: CITIES.berlin }],
    ['nothing matches: the default', '192.0.2.77', { method: 'default', bucket: 'default', point: CITIES.berlin }],
  ])('%s', (_name, addr, want) => expect(locator().locate(ip(addr), addr)).toMatchObject(want));

  it('no default configured: location unknown', () => {
    expect(locator(null).locate(ip('192.0.2.1'), 'k')).toMatchObject({ method: 'default', point: null });
  });

  it("follows sites' client networks as they change", () => {
    const l = locator();
    expect(l.locate(ip('172.16.0.1'), '172.16.0.1').method).toBe('default');
    l.syncSites([{ ...paris, clientCidrs: ['172.16.0.0/12'] }]);
    expect(l.locate(ip('172.16.0.1'), '172.16.0.1').method).toBe('cidr-site');
  });
});
