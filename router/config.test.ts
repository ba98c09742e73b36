import { describe, expect, it } from 'vitest';
import { formatError } from '../base/index.ts';
import { resolveConfig, RouterConfigError, type RouterOptions } from './config.ts';
import { MemorySitesView } from './testing/memory-sites-view.ts';

const base: RouterOptions = { sites: new MemorySitesView(), zone: 'Svc.Example.com.' };

describe('router config', () => {
  it('fills defaults: 10 s TTL, one site per answer, fail-open, ns1 in the zone', () => {
    expect(resolveConfig(base)).toMatchObject({
      zone: 'svc.example.com',
      ttl: 10,
      negativeTtl: 10,
      answerSites: 1,
      noHealthySite: 'fail-open',
      port: 53,
      host: '127.0.0.1',
      nameservers: [{ name: 'ns1.svc.example.com', addresses: [] }],
      hostmaster: 'hostmaster.svc.example.com',
      udpPayloadSize: 1232,
      distanceGranularityKm: 1,
      loadGranularity: 0.05,
    });
  });

  it.each([
    ['zone', { zone: 'bad zone' }, 'ROUTER_BAD_ZONE', 'router.zone'],
    ['ttl', { ttl: -1 }, 'ROUTER_BAD_OPTION', 'router.ttl'],
    ['cidr', { cidrMap: [{ cidr: '10.0.0.0/40', region: 'x' }] }, 'ROUTER_BAD_CIDR', 'router.cidrMap[0].cidr'],
    ['region', { cidrMap: [{ cidr: '10.0.0.0/8', region: 'mars' }] }, 'ROUTER_UNKNOWN_REGION', 'router.cidrMap[0].region'],
    [
      'both targets',
      { cidrMap: [{ cidr: '10.0.0.0/8', region: 'a', site: 'b' }], regions: { a: { lat: 1, lon: 1 } } },
      'ROUTER_BAD_OPTION',
      'router.cidrMap[0]',
    ],
    ['location', { defaultLocation: { lat: 91, lon: 0 } }, 'ROUTER_BAD_LOCATION', 'router.defaultLocation'],
    ['glue', { nameservers: [{ name: 'ns1.x.com', addresses: ['nope'] }] }, 'ROUTER_BAD_OPTION', 'router.nameservers[0].addresses[0]'],
    ['load step', { loadGranularity: 2 }, 'ROUTER_BAD_OPTION', 'router.loadGranularity'],
    ['mode', { noHealthySite: 'maybe' as never }, 'ROUTER_BAD_OPTION', 'router.noHealthySite'],
  ])('rejects a bad %s with a code and the option path', (_n, patch, code, path) => {
    let err: unknown;
    try {
      resolveConfig({ ...base, ...patch });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RouterConfigError);
    expect((err as RouterConfigError).code).toBe(code);
    expect(formatError(err).startsWith(`${path}:`)).toBe(true);
  });
});
