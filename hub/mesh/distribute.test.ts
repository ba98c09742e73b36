import { describe, expect, it } from 'vitest';
import { MappedPlan, type MeshReport } from '../../protocol/index.ts';
import { OverlayPlan } from '../../tunnel/index.ts';
import { meshContents, type MeshSite } from './distribute.ts';

const overlay = new OverlayPlan('10.99.0.0/24', 'fd00:99::/64');
const site = (id: string, index: number, services: MeshSite['services'] = []): MeshSite => ({ id, wireguardKey: `key-${id}`, overlayIndex: index, services });
const report = (pods: MeshReport['pods'], endpoints: string[] = []): MeshReport => ({
  v: 1,
  at: 'x',
  exportPrefix: '10.42.0.0/24',
  endpoints,
  namespaces: [{ name: 'shop', labels: {} }],
  pods,
  paths: [],
});

describe('meshContents', () => {
  const sites = new Map([
    ['a', site('a', 2)],
    ['b', site('b', 3, [{ name: 'db', addresses: ['10.42.0.9', '192.168.7.1'] }])],
    ['c', site('c', 4)],
  ]);
  const reports = new Map([
    ['a', report([{ namespace: 'shop', name: 'pos-1', labels: { app: 'pos' }, ips: ['10.42.0.7'] }], ['192.168.1.2:51820'])],
    ['b', report([{ namespace: 'shop', name: 'db-0', labels: { app: 'db' }, ips: ['10.42.0.9', '10.43.0.1'] }])],
    ['c', report([])],
  ]);
  const contents = meshContents({
    pairs: [{ a: 'a', b: 'b', links: [1] }],
    sites,
    reports,
    observed: new Map([
      ['a', '203.0.113.10:40001'],
      ['b', null],
    ]),
    plan: new MappedPlan(),
    hostRoutes: (i) => overlay.hostRoutes(i),
  });

  it('gives each side the other: key, observed endpoint first, overlay, mapped block, pods at mapped addresses', () => {
    expect(contents.get('b')?.peers).toEqual([
      {
        siteId: 'a',
        publicKey: 'key-a',
        endpoints: ['203.0.113.10:40001', '192.168.1.2:51820'],
        overlay: ['10.99.0.2/32', 'fd00:99::2/128'],
        mappedPrefix: '100.64.2.0/24',
        namespaces: [{ name: 'shop', labels: {} }],
        pods: [{ namespace: 'shop', name: 'pos-1', labels: { app: 'pos' }, ips: ['100.64.2.7'] }],
        services: [],
      },
    ]);
    // Same pod range at both sites, different mapped addresses; a service address outside the export prefix is left out.
    const a = contents.get('a')?.peers[0];
    expect(a?.endpoints).toEqual([]);
    expect(a?.pods.map((p) => p.ips)).toEqual([['100.64.3.9']]);
    expect(a?.services).toEqual([{ name: 'db', ips: ['100.64.3.9'] }]);
    expect(contents.get('a')?.self).toEqual({ exportPrefix: '10.42.0.0/24', mappedPrefix: '100.64.2.0/24' });
  });

  it('a reported site without a link gets an empty peer list (its old peers are removed)', () => {
    expect(contents.get('c')?.peers).toEqual([]);
  });
});
