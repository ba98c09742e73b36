// DNS answers as frames for BPF_PROG_TEST_RUN (the FQDN learning tests and bench:fqdn): encoded by
// dns-packet, then, for the odd cases, cut or bent by hand.
import dnsPacket from 'dns-packet';
import { frame, type PacketSpec } from '../packet.ts';

export type Answer = { name: string; type: 'A' | 'AAAA' | 'CNAME'; ttl: number; data: string };

/** The DNS message of a response to `question` (type A unless told) with `answers`. */
export function dnsAnswer(question: string, answers: Answer[], opts: { id?: number; rcode?: number; tc?: boolean; qtype?: 'A' | 'AAAA' } = {}): Buffer {
  const msg = dnsPacket.encode({
    type: 'response',
    id: opts.id ?? 4242,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | (opts.tc ? dnsPacket.TRUNCATED_RESPONSE : 0),
    questions: [{ type: opts.qtype ?? 'A', name: question, class: 'IN' }],
    answers: answers.map((a) => ({ ...a, class: 'IN' as const })),
  });
  if (opts.rcode) msg[3] = (msg[3] & 0xf0) | opts.rcode;
  return msg;
}

/** A UDP frame from `server`:53 to `client`:`port` carrying `msg`. */
export function udpAnswerFrame(server: string, client: string, port: number, msg: Buffer): Buffer {
  const spec: PacketSpec = { proto: 17, src: server, dst: client, sport: 53, dport: port, payload: msg.length };
  const f = frame(spec);
  msg.copy(f, f.length - msg.length);
  return f;
}

/** A TCP segment from `server`:53 carrying `msg` with its 2-byte length prefix (DNS over TCP). */
export function tcpAnswerFrame(server: string, client: string, port: number, msg: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from([msg.length >> 8, msg.length & 0xff]), msg]);
  const f = frame({ proto: 6, src: server, dst: client, sport: 53, dport: port, payload: body.length });
  body.copy(f, f.length - body.length);
  return f;
}

/** The query that opens the conntrack entry an answer is a reply to. */
export function queryFrame(client: string, server: string, port: number, proto: 6 | 17 = 17): Buffer {
  return frame({ proto, src: client, dst: server, sport: port, dport: 53, payload: 32 });
}
