// The standalone router's sites file: the hub's GET /v1/sites output and hand-written YAML both
// read into the records the SitesView joins with health; every mistake names the file and the path.
import { describe, expect, it } from 'vitest';
import { formatError } from '../base/index.ts';
import { RouterConfigError } from './config.ts';
import { parseSitesFile } from './sites-file.ts';

describe('sites file', () => {
  it('reads the hub API list (extra fields ignored, drained as draining, revoked left out) and plain YAML', () => {
    const api = JSON.stringify([
      {
        id: 'berlin',
        name: 'berlin',
        labels: { region: 'eu' },
        lat: 52.5,
        lon: 13.4,
        clientCidrs: ['10.20.0.0/16'],
        capacity: 100,
        services: [{ name: 'pos', addresses: ['10.0.0.1'], url: 'https://berlin.example.com' }],
        drained: true,
        state: 'enrolled',
        health: { health: 'online' },
      },
      { id: 'gone', lat: 0, lon: 0, state: 'revoked', services: [] },
    ]);
    expect(parseSitesFile(api, 'sites.json')).toEqual([
      {
        id: 'berlin',
        name: 'berlin',
        labels: { region: 'eu' },
        lat: 52.5,
        lon: 13.4,
        clientCidrs: ['10.20.0.0/16'],
        capacity: 100,
        services: [{ name: 'pos', addresses: ['10.0.0.1'], url: 'https://berlin.example.com' }],
        draining: true,
      },
    ]);
    const yaml = 'sites:\n  - id: paris\n    lat: 48.9\n    lon: 2.3\n    services: [{ name: POS, addresses: ["2001:db8::2"] }]\n';
    expect(parseSitesFile(yaml, 'sites.yaml')).toEqual([
      {
        id: 'paris',
        name: 'paris',
        labels: {},
        lat: 48.9,
        lon: 2.3,
        clientCidrs: [],
        capacity: 1,
        services: [{ name: 'pos', addresses: ['2001:db8::2'] }],
        draining: false,
      },
    ]);
  });

  it.each([
    ['not a list', 'zone: x', 'ROUTER_BAD_SITE', 'f.yaml: want a list of sites'],
    ['no id', '[{ lat: 1, lon: 2 }]', 'ROUTER_BAD_SITE', 'f.yaml#sites[0].id: want a non-empty string'],
    ['bad latitude', '[{ id: a, lat: 91, lon: 2 }]', 'ROUTER_BAD_LOCATION', 'f.yaml#sites[0]: needs lat'],
    [
      'bad address',
      '[{ id: a, lat: 1, lon: 2, services: [{ name: pos, addresses: [10.0.0.300] }] }]',
      'ROUTER_BAD_SITE',
      'f.yaml#sites[0].services[0].addresses[0]',
    ],
    ['twice', '[{ id: a, lat: 1, lon: 2 }, { id: a, lat: 1, lon: 2 }]', 'ROUTER_BAD_SITE', 'f.yaml#sites[1].id: site a is listed twice'],
    ['not YAML', '[{', 'ROUTER_BAD_SITE', 'f.yaml: not YAML or JSON'],
  ])('%s', (_name, text, code, start) => {
    const err = (() => {
      try {
        parseSitesFile(text, 'f.yaml');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(RouterConfigError);
    expect((err as RouterConfigError).code).toBe(code);
    expect(formatError(err).startsWith(start)).toBe(true);
  });
});
