// TCP or TLS listeners for the embedded broker: one per host, all on the same port (the first bind
// resolves port 0). A socket error never reaches the process: garbage on the port only ends that socket.
// Before aedes sees a byte, each socket gets a FrameGuard (oversized packets end the connection at
// their header) and each client address a connection cap (loopback, the hub's own clients, exempt).
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { FrameGuard, type FrameLimits } from './frame-guard.ts';
import { BrokerError, type BrokerTls } from './types.ts';

export interface ListenLimits extends FrameLimits {
  /** Open connections from one address (authenticated or not); the next one is closed at once. */
  maxConnectionsPerAddress: number;
  /** Addresses the per-address cap does not apply to. */
  uncappedAddresses: string[];
}

export type Rejection = 'packet_too_large' | 'malformed_length' | 'too_many_connections';

/**
 * Runs every chunk the socket reads through a FrameGuard before it reaches the stream's buffer. The
 * socket object itself goes to aedes (its address, TLS state and events stay as they are); only its
 * push(), where the kernel's bytes enter the stream, is wrapped.
 */
function guardSocket(socket: Socket, limits: FrameLimits, reject: (r: Rejection) => void): void {
  const guard = new FrameGuard(limits);
  const push = socket.push.bind(socket);
  socket.push = (chunk: unknown, encoding?: BufferEncoding) => {
    if (chunk === null || socket.destroyed) return push(chunk, encoding);
    const v = guard.feed(chunk as Uint8Array);
    if (v.ok) return push(chunk, encoding);
    reject(v.reason);
    socket.destroy();
    return false;
  };
}

export interface Listeners {
  port: number;
  close(): Promise<void>;
}

function listenOne(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) =>
      reject(
        new BrokerError('BROKER_LISTEN', `cannot listen on ${host}:${port}: ${err.message}`, 'is the address configured on this machine and the port free?'),
      );
    server.once('error', onError);
    server.listen({ host, port }, () => {
      server.off('error', onError);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}

export async function listenAll(
  hosts: string[],
  port: number,
  tls: BrokerTls | undefined,
  limits: ListenLimits,
  handle: (socket: Socket) => void,
  onReject: (r: Rejection) => void,
): Promise<Listeners> {
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  const perAddress = new Map<string, number>();
  const uncapped = new Set(limits.uncappedAddresses);
  const track = (socket: Socket) => {
    const addr = socket.remoteAddress ?? '';
    if (!uncapped.has(addr)) {
      const n = (perAddress.get(addr) ?? 0) + 1;
      if (n > limits.maxConnectionsPerAddress) {
        onReject('too_many_connections');
        socket.destroy();
        return;
      }
      perAddress.set(addr, n);
      socket.once('close', () => {
        const left = (perAddress.get(addr) ?? 1) - 1;
        if (left > 0) perAddress.set(addr, left);
        else perAddress.delete(addr);
      });
    }
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    guardSocket(socket, limits, onReject);
    handle(socket);
  };
  const close = async () => {
    const closed = Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    // Connections that never completed CONNECT are not the broker's to close: end them here.
    for (const s of sockets) s.destroy();
    await closed;
  };
  let bound = port;
  try {
    for (const host of hosts) {
      const server: Server = tls ? createTlsServer({ key: tls.key, cert: tls.cert, minVersion: 'TLSv1.2' }, track) : createTcpServer(track);
      // Failed TLS handshakes and resets are per-connection events, not broker failures.
      server.on('tlsClientError', (_err: Error, socket: Socket) => socket.destroy());
      servers.push(server);
      bound = await listenOne(server, host, bound);
      server.on('error', () => undefined);
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { port: bound, close };
}
