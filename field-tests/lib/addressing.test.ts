import { describe, expect, it } from 'vitest';
import { addressPlan } from './addressing.ts';

describe('addressing plan', () => {
  it('gives the hub, each site, pod and client its addresses', () => {
    const plan = addressPlan({ sites: 2, podsPerSite: 3, clients: 2 });
    expect(plan.wan).toEqual({ cidr: '198.18.0.0/24', prefixLen: 24, hub: '198.18.0.1', clients: ['198.18.0.101', '198.18.0.102'] });
    expect(plan.overlay).toEqual({ ipv4Prefix: '10.99.0.0/24', ipv6Prefix: 'fd00:99::/64', hubAddresses: ['10.99.0.1/24', 'fd00:99::1/64'], hubPort: 51820 });
    expect(plan.sites[1]).toEqual({
      index: 2,
      name: 'site2',
      wanIp: '198.18.0.12',
      podCidr: '10.102.0.0/24',
      gateway: '10.102.0.1',
      pods: [
        { name: 'pod1', ip: '10.102.0.11' },
        { name: 'pod2', ip: '10.102.0.12' },
        { name: 'pod3', ip: '10.102.0.13' },
      ],
    });
  });

  it('never gives two things the same address', () => {
    const plan = addressPlan({ sites: 50, podsPerSite: 4, clients: 50 });
    const all = [plan.wan.hub, ...plan.wan.clients, ...plan.sites.flatMap((s) => [s.wanIp, s.gateway, ...s.pods.map((p) => p.ip)])];
    expect(new Set(all).size).toBe(all.length);
  });
});
