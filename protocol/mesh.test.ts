import { describe, expect, it } from 'vitest';
import { decode, encode } from './messages.ts';
import { exportProblem, MappedPlan, mapAddress, mappedPrefix, type MeshReport } from './mesh.ts';
import { siteMayPublish, siteMaySubscribe, topics } from './topics.ts';

describe('mapped addresses', () => {
  const plan = new MappedPlan();
  it.each<[number, string]>([
    [1, '100.64.1.0/24'],
    [2, '100.64.2.0/24'],
    [256, '100.65.0.0/24'],
    [16383, '100.127.255.0/24'],
  ])('site %i owns %s', (n, want) => expect(plan.block(n)).toBe(want));

  it('has no block past the pool', () => {
    expect(plan.blocks).toBe(16384);
    expect(() => plan.block(16384)).toThrow(RangeError);
  });

  it.each<[string, string, string, string | null]>([
    ['the same pod address at two sites lands in two blocks (a)', '10.42.0.7', '10.42.0.0/24', '100.64.1.7'],
    ['the same pod address at two sites lands in two blocks (b)', '10.42.0.7', '10.42.0.0/24', '100.64.2.7'],
    ['a smaller export prefix keeps its offset', '10.42.0.130', '10.42.0.128/25', '100.64.1.2'],
    ['outside the export prefix: not reachable', '10.43.0.7', '10.42.0.0/24', null],
  ])('%s', (_name, ip, exp, want) => {
    const block = want?.startsWith('100.64.2') ? '100.64.2.0/24' : '100.64.1.0/24';
    expect(mapAddress(ip, exp, block)).toBe(want);
  });

  it('maps a prefix onto the block start, with the export length', () => {
    expect(mappedPrefix('10.42.0.128/25', '100.64.3.0/24')).toBe('100.64.3.0/25');
    expect(mappedPrefix('10.42.0.0/16', '100.64.3.0/24')).toBeNull();
  });

  it.each<[string, string | null]>([
    ['10.42.0.0/24', null],
    ['10.42.0.0/16', 'export prefix 10.42.0.0/16 is larger than a mapped block (/24)'],
    ['fd00::/64', 'export prefix fd00::/64 is not an IPv4 prefix'],
  ])('export %s', (p, want) => expect(exportProblem(p, 24)).toBe(want));
});

describe('mesh topics and report', () => {
  it('a site publishes its mesh report, reads only its own peers, never writes them', () => {
    expect(siteMayPublish('a', topics.mesh('a'))).toBe(true);
    expect(siteMayPublish('a', topics.mesh('b'))).toBe(false);
    expect(siteMayPublish('a', topics.peers('a'))).toBe(false);
    expect(siteMaySubscribe('a', topics.peers('a'))).toBe(true);
    expect(siteMaySubscribe('a', topics.peers('b'))).toBe(false);
  });

  it('decodes a report and refuses a bad path state', () => {
    const r: MeshReport = {
      v: 1,
      at: '2026-01-01T00:00:00Z',
      exportPrefix: '10.42.0.0/24',
      endpoints: ['192.168.1.2:51820'],
      namespaces: [{ name: 'shop', labels: {} }],
      pods: [{ namespace: 'shop', name: 'pos-1', labels: { app: 'pos' }, ips: ['10.42.0.7'] }],
      paths: [{ peer: 'b', state: 'direct', handshakeAgeS: 3, since: '2026-01-01T00:00:00Z' }],
    };
    expect(decode('mesh', encode('mesh', r))).toEqual(r);
    expect(() => decode('mesh', JSON.stringify({ ...r, paths: [{ ...r.paths[0], state: 'sideways' }] }))).toThrow(/paths\[0\]\.state/);
  });
});
