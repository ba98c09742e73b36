// Router settings from a YAML file (weft-hub --router-config): parsed, validated, and every mistake
// reported with the file, the path inside it and a hint.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatError } from '../base/index.ts';
import { loadRouterSettings, RouterConfigError } from './index.ts';

const dir = mkdtempSync(join(tmpdir(), 'wrt-config-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'city.mmdb'), 'not opened here, only checked for readability');

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const GOOD = `
zone: svc.example.com
ttl: 5
answerSites: 2
noHealthySite: fail-closed
geoDbPath: city.mmdb
defaultLocation: { lat: 48.86, lon: 2.35 }
regions:
  north: { lat: 59.33, lon: 18.07 }
cidrMap:
  - { cidr: 10.20.0.0/16, site: store-042 }
  - { cidr: 10.64.0.0/10, region: north }
nameservers:
  - { name: ns1.svc.example.com, addresses: [203.0.113.53] }
`;

describe('router config file', () => {
  it("reads every setting; a relative geoDbPath is taken from the file's folder", () => {
    const s = loadRouterSettings(file('good.yaml', GOOD));
    expect(s).toMatchObject({
      zone: 'svc.example.com',
      ttl: 5,
      answerSites: 2,
      noHealthySite: 'fail-closed',
      geoDbPath: join(dir, 'city.mmdb'),
      cidrMap: [
        { cidr: '10.20.0.0/16', site: 'store-042' },
        { cidr: '10.64.0.0/10', region: 'north' },
      ],
      regions: { north: { lat: 59.33, lon: 18.07 } },
      nameservers: [{ name: 'ns1.svc.example.com', addresses: ['203.0.113.53'] }],
    });
  });

  it.each([
    ['not YAML', 'zone: [', 'ROUTER_BAD_OPTION', 'x.yaml: not YAML'],
    ['a list, not a mapping', '- zone', 'ROUTER_BAD_OPTION', 'x.yaml: want a mapping'],
    ['an unknown setting', 'zone: a.example\nttll: 5', 'ROUTER_BAD_OPTION', 'x.yaml#ttll: unknown setting'],
    ['a wrong type', 'zone: a.example\nttl: ten', 'ROUTER_BAD_OPTION', 'x.yaml#ttl: want a number'],
    [
      'a wrong type deep inside',
      'zone: a.example\ncidrMap: [{ cidr: 10.0.0.0/8, region: x }, { cidr: 7 }]',
      'ROUTER_BAD_OPTION',
      'x.yaml#cidrMap[1].cidr: want a string',
    ],
    ['an unknown field in a list entry', 'zone: a.example\ncidrMap: [{ cidr: 10.0.0.0/8, store: x }]', 'ROUTER_BAD_OPTION', 'x.yaml#cidrMap[0].store'],
    ['a bad CIDR', 'zone: a.example\ncidrMap: [{ cidr: 10.0.0.0/33, site: s }]', 'ROUTER_BAD_CIDR', 'x.yaml#cidrMap[0].cidr: "10.0.0.0/33" is not a CIDR'],
    ['an unknown region', 'zone: a.example\ncidrMap: [{ cidr: 10.0.0.0/8, region: mars }]', 'ROUTER_UNKNOWN_REGION', 'x.yaml#cidrMap[0].region'],
    ['a bad failure mode', 'zone: a.example\nnoHealthySite: maybe', 'ROUTER_BAD_OPTION', 'x.yaml#noHealthySite'],
    ['a missing geo database', 'zone: a.example\ngeoDbPath: nope.mmdb', 'ROUTER_GEO_DB', 'x.yaml#geoDbPath: cannot read'],
    ['no zone', 'ttl: 5', 'ROUTER_BAD_ZONE', 'x.yaml#zone: missing'],
  ])('rejects %s with the file, the path and a code', (_n, text, code, start) => {
    const p = file('x.yaml', text);
    let err: unknown;
    try {
      loadRouterSettings(p);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RouterConfigError);
    expect((err as RouterConfigError).code).toBe(code);
    expect(formatError(err).startsWith(join(dir, start))).toBe(true);
  });
});
