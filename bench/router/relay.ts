// A TCP relay between a simulated site and the broker that can be cut silently: after cut(), bytes
// are dropped in both directions and no FIN or RST is sent, as when a site's uplink goes dark.
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface Relay {
  port: number;
  cut(): void;
  close(): Promise<void>;
}

export async function startRelay(host: string, port: number): Promise<Relay> {
  let cut = false;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(port, host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
    }
    client.on('data', (d) => {
      if (!cut) upstream.write(d);
    });
    upstream.on('data', (d) => {
      if (!cut) client.write(d);
    });
    // After the cut, one side closing must stay invisible to the other.
    client.on('close', () => {
      if (!cut) upstream.destroy();
    });
    upstream.on('close', () => {
      if (!cut) client.destroy();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const bound = (server.address() as { port: number }).port;
  return {
    port: bound,
    cut: () => {
      cut = true;
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}
