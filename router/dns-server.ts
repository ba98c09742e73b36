// The DNS listeners: one UDP socket and one TCP server on the same host and port. All protocol
// logic is in DnsResolver; this file only moves bytes, frames TCP (RFC 1035 §4.2.2 length prefix,
// several queries per connection, RFC 7766) and keeps a bad client from holding resources:
// - TCP: each query must arrive whole within an absolute deadline (a byte every few seconds does not
//   extend it), at most N connections per client address, a backlog cap for clients that do not read;
// - UDP: response rate limiting (rrl.ts), so forged sources cannot turn us into a reflector.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { DnsLimits } from './config.ts';
import type { DnsResolver, Transport } from './dns-resolver.ts';
import { FLAG_TC } from './dns-wire.ts';
import { ResponseRateLimiter } from './rrl.ts';

export interface DnsServerAddress {
  host: string;
  /** UDP and TCP share it (with port 0, the UDP port is picked first and TCP binds the same). */
  port: number;
}

export type QueryHook = (transport: Transport) => void;

/** A UDP socket and a TCP listener bound to the same host and port, not yet served. */
export interface DnsSockets {
  udp: UdpSocket;
  tcp: Server;
  address: DnsServerAddress;
}

/** A client that sends queries but does not read the answers is cut off past this much backlog. */
const TCP_MAX_BACKLOG = 1 << 20;
/**
 * UDP receive and send buffer asked for. Linux's default (208 KiB) holds only a few hundred queries:
 * a loop descheduled for a few ms on a busy machine (or a GC pause) overflows it and queries are lost
 * before we ever see them. The kernel caps this at net.core.rmem_max / wmem_max.
 */
export const UDP_BUFFER_BYTES = 4 << 20;

export class DnsServer {
  private constructor(
    private readonly udp: UdpSocket,
    private readonly tcp: Server,
    readonly address: DnsServerAddress,
    private readonly sockets: Set<Socket>,
  ) {}

  /** Binds UDP and TCP on one port and serves on them. */
  static async start(resolver: DnsResolver, host: string, port: number, limits: DnsLimits, log: Logger, onQuery: QueryHook): Promise<DnsServer> {
    return DnsServer.serve(resolver, await bindDnsSockets(host, port), limits, log, onQuery);
  }

  /**
   * Serves on sockets bound elsewhere: by start(), or by the parent of several DNS processes, which
   * binds once and hands each process the same two sockets (dns-workers.ts), so they share the port.
   */
  static serve(resolver: DnsResolver, sockets: DnsSockets, limits: DnsLimits, log: Logger, onQuery: QueryHook): DnsServer {
    const { udp, tcp, address } = sockets;
    const rrl = limits.rrl ? new ResponseRateLimiter(limits.rrl) : null;
    udp.on('message', (msg, rinfo) => {
      let out = resolver.handle(msg, rinfo.address, 'udp');
      onQuery('udp');
      if (out && rrl) {
        const verdict = rrl.check(rinfo.address, resolver.last.nameKey, Date.now());
        if (verdict === 'drop') return;
        if (verdict === 'slip') out = slipped(out, resolver.last.questionEnd);
      }
      if (out) udp.send(out, rinfo.port, rinfo.address);
    });
    // A failed send to a vanished client must not take the server down.
    udp.on('error', (err) => log.warn({ err }, 'dns udp socket error'));
    const open = new Set<Socket>();
    const perAddress = new Map<string, number>();
    tcp.on('connection', (sock: Socket) => {
      const addr = sock.remoteAddress ?? '';
      const n = (perAddress.get(addr) ?? 0) + 1;
      if (n > limits.tcpConnectionsPerAddress) {
        sock.destroy();
        return;
      }
      perAddress.set(addr, n);
      sock.once('close', () => {
        const left = (perAddress.get(addr) ?? 1) - 1;
        if (left > 0) perAddress.set(addr, left);
        else perAddress.delete(addr);
      });
      serveTcp(sock, resolver, onQuery, open, limits.tcpMessageDeadlineMs);
    });
    tcp.maxConnections = limits.tcpMaxConnections;
    tcp.on('error', (err) => log.warn({ err }, 'dns tcp server error'));
    return new DnsServer(udp, tcp, address, open);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all([new Promise<void>((r) => this.udp.close(() => r())), new Promise<void>((r) => this.tcp.close(() => r()))]);
  }
}

/** The rate limiter's "slip": header and question only, TC set, so a real client retries over TCP. */
function slipped(out: Buffer, questionEnd: number): Buffer {
  const s = Buffer.from(out.subarray(0, Math.min(questionEnd, out.length)));
  s.writeUInt16BE(s.readUInt16BE(2) | FLAG_TC, 2);
  s.writeUInt16BE(questionEnd > 12 ? 1 : 0, 4);
  s.fill(0, 6, 12);
  return s;
}

/** Binds UDP, then TCP on the same port; with port 0, retries until one port is free for both. */
export async function bindDnsSockets(host: string, port: number): Promise<DnsSockets> {
  for (let attempt = 0; ; attempt++) {
    const udp = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' });
    const tcp = createServer();
    try {
      await listen((cb) => udp.bind(port, host, cb), udp);
      const bound = udp.address().port;
      udp.setRecvBufferSize(UDP_BUFFER_BYTES);
      udp.setSendBufferSize(UDP_BUFFER_BYTES);
      await listen((cb) => tcp.listen(bound, host, cb), tcp);
      return { udp, tcp, address: { host, port: bound } };
    } catch (err) {
      for (const c of [() => udp.close(), () => tcp.close()])
        try {
          c();
        } catch {
          // not bound: nothing to close
        }
      if (port !== 0 || attempt >= 20 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
  }
}

function listen(start: (cb: () => void) => void, emitter: UdpSocket | Server): Promise<void> {
  return new Promise((resolve, reject) => {
    emitter.once('error', reject);
    start(() => {
      emitter.off('error', reject);
      resolve();
    });
  });
}

function serveTcp(sock: Socket, resolver: DnsResolver, onQuery: QueryHook, sockets: Set<Socket>, deadlineMs: number): void {
  sockets.add(sock);
  // One timer per expected message, armed at connect and after each answer; data does not re-arm it.
  const deadline = setTimeout(() => sock.destroy(), deadlineMs);
  sock.on('error', () => sock.destroy());
  sock.on('close', () => {
    clearTimeout(deadline);
    sockets.delete(sock);
  });
  let pending: Buffer = Buffer.alloc(0);
  sock.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 2) {
      const len = pending.readUInt16BE(0);
      if (pending.length < 2 + len) break;
      const msg = pending.subarray(2, 2 + len);
      pending = pending.subarray(2 + len);
      const out = resolver.handle(msg, sock.remoteAddress ?? '', 'tcp');
      onQuery('tcp');
      if (!out) {
        // Nothing sensible to say (garbage or a response): close, as RFC 7766 §6.2.3 allows.
        sock.destroy();
        return;
      }
      const framed = Buffer.allocUnsafe(2 + out.length);
      framed.writeUInt16BE(out.length, 0);
      out.copy(framed, 2);
      sock.write(framed);
      if (sock.writableLength > TCP_MAX_BACKLOG) {
        sock.destroy();
        return;
      }
      deadline.refresh();
    }
  });
}
