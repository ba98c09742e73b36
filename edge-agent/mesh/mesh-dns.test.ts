import { createSocket } from 'node:dgram';
import dnsPacket from 'dns-packet';
import { afterAll, describe, expect, it } from 'vitest';
import type { MeshPeer } from '../../policy/index.ts';
import type { PathState } from '../../protocol/index.ts';
import { meshAnswer, MeshDns } from './mesh-dns.ts';

const peer: MeshPeer = {
  siteId: 'site-b',
  publicKey: 'k',
  endpoints: [],
  overlay: [],
  mappedPrefix: '100.64.3.0/24',
  namespaces: [{ name: 'shop', labels: {} }],
  pods: [{ namespace: 'shop', name: 'db-0', labels: { app: 'db' }, ips: ['100.64.3.9'] }],
  services: [{ name: 'db', ips: ['100.64.3.9'] }],
};
const paths = new Map<string, PathState>([['site-b', 'direct']]);

describe('meshAnswer', () => {
  it.each<[string, string, PathState, ReturnType<typeof meshAnswer>]>([
    ['a service', 'db.site-b.mesh.weft.internal', 'direct', { rcode: 'NOERROR', addresses: ['100.64.3.9'] }],
    ['a pod, case and trailing dot ignored', 'DB-0.shop.site-b.mesh.weft.internal.', 'relayed', { rcode: 'NOERROR', addresses: ['100.64.3.9'] }],
    ['the link down: the name exists, no address now', 'db.site-b.mesh.weft.internal', 'down', { rcode: 'SERVFAIL' }],
    ['an unknown service', 'web.site-b.mesh.weft.internal', 'direct', { rcode: 'NXDOMAIN' }],
    ['a site not linked', 'db.site-c.mesh.weft.internal', 'direct', { rcode: 'NXDOMAIN' }],
    ['outside the zone', 'example.com', 'direct', { rcode: 'REFUSED' }],
  ])('%s', (_n, name, state, want) => expect(meshAnswer(name, [peer], () => state)).toEqual(want));
});

describe('MeshDns over UDP', () => {
  const dns = new MeshDns({ peers: [peer], pathOf: (s) => paths.get(s) });
  afterAll(() => dns.close());

  async function ask(port: number, name: string): Promise<dnsPacket.Packet> {
    const s = createSocket('udp4');
    try {
      const reply = new Promise<Buffer>((r) => s.once('message', (m) => r(m)));
      s.send(dnsPacket.encode({ id: 7, type: 'query', flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: 'A', class: 'IN' }] }), port, '127.0.0.1');
      return dnsPacket.decode(await reply);
    } finally {
      s.close();
    }
  }

  it('answers A records and follows the link state', async () => {
    const { port } = await dns.listen('127.0.0.1:0');
    const ok = await ask(port, 'db.site-b.mesh.weft.internal');
    expect(ok.id).toBe(7);
    expect(ok.answers?.map((a) => (a.type === 'A' ? [a.type, a.data, a.ttl] : [a.type]))).toEqual([['A', '100.64.3.9', 5]]);
    paths.set('site-b', 'down');
    const down = await ask(port, 'db.site-b.mesh.weft.internal');
    expect((down as dnsPacket.Packet & { rcode?: string }).rcode).toBe('SERVFAIL');
    expect(down.answers).toEqual([]);
  });
});
