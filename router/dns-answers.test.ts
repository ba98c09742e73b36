// The zone's own records are the same from every router given the same config: the SOA serial is a
// function of the config, not of when the router started.
import { describe, expect, it } from 'vitest';
import { resolveConfig } from './config.ts';
import { zoneSerial } from './dns-answers.ts';

const NS = [
  { name: 'ns1.svc.example.com', addresses: ['192.0.2.53'] },
  { name: 'ns2.svc.example.com', addresses: ['192.0.2.54'] },
];

describe('zone serial', () => {
  it('is the same for the same zone config, started at any time, and changes with the router list', () => {
    const a = zoneSerial(resolveConfig({ zone: 'svc.example.com', nameservers: NS }));
    expect(zoneSerial(resolveConfig({ zone: 'svc.example.com', nameservers: NS, cidrMap: [] }))).toBe(a);
    expect(zoneSerial(resolveConfig({ zone: 'svc.example.com', nameservers: NS.slice(0, 1) }))).not.toBe(a);
    expect(zoneSerial(resolveConfig({ zone: 'other.example.com', nameservers: NS }))).not.toBe(a);
    expect(a).toBeGreaterThan(0);
    expect(a).toBeLessThan(2 ** 32);
  });
});
