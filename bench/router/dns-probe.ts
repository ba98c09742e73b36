// A tiny DNS client for the benchmark: one A query (with an optional ECS subnet) to a server,
// returning the answer's addresses and the round-trip time.
import { createSocket, type Socket } from 'node:dgram';
import { answerAddresses, encodeQuery, RCODE_NAMES } from '../../router/testing/index.ts';

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
      if (m.length < 12) return;
      const id = m.readUInt16BE(0);
      const done = this.pending.get(id);
      const t0 = this.sent.get(id);
      if (!done || t0 === undefined) return;
      this.pending.delete(id);
      this.sent.delete(id);
      let addresses: string[];
      try {
        addresses = answerAddresses(m);
      } catch {
        return;
      }
      done({ rcode: RCODE_NAMES[m[3] & 0xf] ?? String(m[3] & 0xf), addresses, rttMs: Number(process.hrtime.bigint() - t0) / 1e6 });
    });
  }

  /** Resolves null after `timeoutMs` without an answer. */
  query(port: number, name: string, subnet: string | null, timeoutMs = 1000): Promise<ProbeAnswer | null> {
    const id = (this.nextId = (this.nextId % 65535) + 1);
    const msg = encodeQuery(id, name, 'A', subnet ?? undefined);
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
