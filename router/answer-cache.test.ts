// The DNS answer cache: an encoded answer is reused per (name, type, location) until a change that
// can alter it arrives; a heartbeat's load jitter within one load step keeps it.
import { describe, expect, it } from 'vitest';
import { resolveConfig } from './config.ts';
import { DnsResolver } from './dns-resolver.ts';
import { Routing } from './routing.ts';
import { MemorySitesView, site } from './testing/memory-sites-view.ts';
import { answerAddresses, encodeQuery } from './testing/query.ts';

function setup() {
  const view = new MemorySitesView([
    site('near', 48.8, 2.3, { services: [{ name: 'pos', addresses: ['192.0.2.1'] }] }),
    site('far', 52.5, 13.4, { services: [{ name: 'pos', addresses: ['192.0.2.2'] }] }),
  ]);
  const resolver = new DnsResolver(new Routing(resolveConfig({ zone: 'svc.example.com', defaultLocation: { lat: 48.8, lon: 2.3 } }), view));
  const query = encodeQuery(7, 'pos.svc.example.com', 'A');
  const ask = () => {
    const out = resolver.handle(query, '192.0.2.99', 'udp') as Buffer;
    return { cached: resolver.last.cached, addresses: answerAddresses(out) };
  };
  return { view, ask };
}

describe('DNS answer cache', () => {
  it('builds an answer once, then serves it from the cache', () => {
    const { ask } = setup();
    expect(ask()).toEqual({ cached: false, addresses: ['192.0.2.1'] });
    expect(ask()).toEqual({ cached: true, addresses: ['192.0.2.1'] });
  });

  it('keeps it across load changes within one step, drops it on a step change or a health change', () => {
    const { view, ask } = setup();
    ask();
    view.update('near', { load: 2 });
    view.update('far', { load: 4.9 });
    expect(ask().cached).toBe(true);
    view.update('near', { load: 5 });
    expect(ask().cached).toBe(false);
    view.setHealth('near', 'offline');
    expect(ask()).toEqual({ cached: false, addresses: ['192.0.2.2'] });
    view.setHealth('near', 'online');
    expect(ask()).toEqual({ cached: false, addresses: ['192.0.2.1'] });
  });

  it('drops it when a site changes its addresses, and when a site reaches its capacity', () => {
    const { view, ask } = setup();
    ask();
    view.update('near', { services: [{ name: 'pos', addresses: ['192.0.2.11'] }] });
    expect(ask()).toEqual({ cached: false, addresses: ['192.0.2.11'] });
    view.update('near', { load: 100 });
    expect(ask()).toEqual({ cached: false, addresses: ['192.0.2.2'] });
  });
});
