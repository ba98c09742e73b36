// Names of linked sites' services and pods, answered by the agent from the hub's signed peer bundle:
//   <service>.<site>.mesh.weft.internal        -> the service's mapped addresses
//   <pod>.<namespace>.<site>.mesh.weft.internal -> the pod's mapped addresses
// The answer follows the link: while the path to that site is down the name answers SERVFAIL (it
// exists, it cannot be reached now), so clients do not cache an address that goes nowhere.
import { createSocket, type Socket } from 'node:dgram';
import dnsPacket from 'dns-packet';
import type { MeshPeer } from '../../policy/index.ts';
import { MESH_ZONE, type PathState } from '../../protocol/index.ts';

export type MeshAnswer = { rcode: 'NOERROR'; addresses: string[] } | { rcode: 'NXDOMAIN' | 'SERVFAIL' | 'REFUSED' };

/** TTL of answers: short, a link's path can change within seconds. */
export const MESH_DNS_TTL_S = 5;

/** Pure: the answer to an A question for `name`. */
export function meshAnswer(name: string, peers: readonly MeshPeer[], pathOf: (site: string) => PathState | undefined): MeshAnswer {
  const n = name.toLowerCase().replace(/\.$/, '');
  if (!n.endsWith(`.${MESH_ZONE}`)) return { rcode: 'REFUSED' };
  const labels = n.slice(0, -MESH_ZONE.length - 1).split('.');
  const site = labels.at(-1) ?? '';
  const peer = peers.find((p) => p.siteId === site);
  if (!peer) return { rcode: 'NXDOMAIN' };
  let addresses: string[] | undefined;
  if (labels.length === 2) addresses = peer.services.find((s) => s.name === labels[0])?.ips;
  else if (labels.length === 3) addresses = peer.pods.find((p) => p.name === labels[0] && p.namespace === labels[1])?.ips;
  if (!addresses?.length) return { rcode: 'NXDOMAIN' };
  if ((pathOf(site) ?? 'down') === 'down') return { rcode: 'SERVFAIL' };
  return { rcode: 'NOERROR', addresses };
}

export interface MeshDnsSource {
  peers: readonly MeshPeer[];
  pathOf(site: string): PathState | undefined;
}

/** The UDP server (one socket); `listen` is "host:port". */
export class MeshDns {
  private socket: Socket | null = null;

  constructor(private readonly source: MeshDnsSource) {}

  async listen(hostPort: string): Promise<{ host: string; port: number }> {
    const i = hostPort.lastIndexOf(':');
    const host = hostPort.slice(0, i).replace(/^\[|\]$/g, '');
    const port = Number(hostPort.slice(i + 1));
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    s.on('message', (msg, rinfo) => {
      const out = this.answer(msg);
      if (out) s.send(out, rinfo.port, rinfo.address);
    });
    await new Promise<void>((res, rej) => {
      s.once('error', rej);
      s.bind(port, host, () => res());
    });
    this.socket = s;
    const a = s.address();
    return { host: a.address, port: a.port };
  }

  private answer(msg: Buffer): Buffer | null {
    let q: dnsPacket.Packet;
    try {
      q = dnsPacket.decode(msg);
    } catch {
      return null; // not DNS: nothing to answer
    }
    const question = q.questions?.[0];
    if (!question) return null;
    const a =
      question.type === 'A' || question.type === 'AAAA'
        ? meshAnswer(question.name, this.source.peers, (s) => this.source.pathOf(s))
        : { rcode: 'NOERROR' as const, addresses: [] };
    const rcode = a.rcode === 'NOERROR' ? 0 : a.rcode === 'SERVFAIL' ? 2 : a.rcode === 'NXDOMAIN' ? 3 : 5;
    const addresses = a.rcode === 'NOERROR' && question.type === 'A' ? a.addresses : [];
    return dnsPacket.encode({
      id: q.id,
      type: 'response',
      flags: dnsPacket.AUTHORITATIVE_ANSWER | ((q.flags ?? 0) & dnsPacket.RECURSION_DESIRED) | rcode,
      questions: [question],
      answers: addresses.map((data) => ({ name: question.name, type: 'A' as const, class: 'IN' as const, ttl: MESH_DNS_TTL_S, data })),
    });
  }

  async close(): Promise<void> {
    const s = this.socket;
    this.socket = null;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}
