// A tiny DNS client for the benchmark: one A query (with an optional ECS subnet) to a server,
// returning the answer's addresses and the round-trip time.
import { createSocket, type Socket } from 'node:dgram';
import dnsPacket from 'dns-packet';

export interface ProbeAnswer {
  rcode: string;
  addresses: string[];
  rttMs: number;
}

export class DnsProbe {
  private readonly sock: Socket = createSocket('udp4');
  private readonly pending = new Map<number, (a: ProbeAnswer) => void>();
  private readonly sent = new Map<number, bigint>();
  private nextId = 1;

  constructor() {
    this.sock.on('message', (m) => {
      let p: dnsPacket.DecodedPacket;
      try {
        p = dnsPacket.decode(m);
      } catch {
        return;
      }
      const done = this.pending.get(p.id ?? -1);
      const t0 = this.sent.get(p.id ?? -1);
      if (!done || t0 === undefined) return;
      this.pending.delete(p.id as number);
      this.sent.delete(p.id as number);
      const addresses = (p.answers ?? []).filter((a) => a.type === 'A' || a.type === 'AAAA').map((a) => String(a.data));
      done({ rcode: p.rcode ?? 'NOERROR', addresses, rttMs: Number(process.hrtime.bigint() - t0) / 1e6 });
    });
  }

  /** Resolves null after `timeoutMs` without an answer. */
  query(port: number, name: string, subnet: string | null, timeoutMs = 1000): Promise<ProbeAnswer | null> {
    const id = this.nextId = (this.nextId % 65535) + 1;
    const [ip, prefix] = subnet ? subnet.split('/') : [];
    const msg = dnsPacket.encode({
      type: 'query', id, flags: 0, questions: [{ name, type: 'A' }],
      additionals: subnet ? [{ type: 'OPT', name: '.', udpPayloadSize: 1232, flags: 0, options: [{ code: 8, family: 1, sourcePrefixLength: Number(prefix), scopePrefixLength: 0, ip } as never] }] : [],
    });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.sent.delete(id);
        resolve(null);
      }, timeoutMs);
      this.pending.set(id, (a) => {
        clearTimeout(timer);
        resolve(a);
      });
      this.sent.set(id, process.hrtime.bigint());
      this.sock.send(msg, port, '127.0.0.1');
    });
  }

  close(): void {
    this.sock.close();
  }
}
