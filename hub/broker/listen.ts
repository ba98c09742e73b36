// TCP or TLS listeners for the embedded broker: one per host, all on the same port (the first bind
// resolves port 0). A socket error never reaches the process: garbage on the port only ends that socket.
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { BrokerError, type BrokerTls } from './types.ts';

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

export async function listenAll(hosts: string[], port: number, tls: BrokerTls | undefined, handle: (socket: Socket) => void): Promise<Listeners> {
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
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
