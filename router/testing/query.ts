// Encodes test and benchmark queries with dns-packet, optionally with an EDNS Client Subnet option.
import dnsPacket, { type RecordType } from 'dns-packet';

export function encodeQuery(id: number, name: string, type: RecordType, subnet?: string): Buffer {
  const [ip, prefix] = subnet ? subnet.split('/') : [];
  const ecs = { code: 8 as const, family: ip?.includes(':') ? 2 : 1, sourcePrefixLength: Number(prefix), scopePrefixLength: 0, ip };
  return dnsPacket.encode({
    type: 'query',
    id,
    flags: 0,
    questions: [{ name, type }],
    additionals: subnet ? [{ type: 'OPT', name: '.', udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [ecs] }] : [],
  });
}

/** A/AAAA addresses of a response (throws on a malformed one). */
export function answerAddresses(msg: Buffer): string[] {
  return dnsPacket.decode(msg).answers?.flatMap((a) => (a.type === 'A' || a.type === 'AAAA' ? [a.data] : [])) ?? [];
}

export const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];
