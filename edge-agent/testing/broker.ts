// A plain aedes broker on a free port for link tests (the hub's broker with ACLs is tested by the hub).
import { Aedes, type AedesPublishPacket, type Client } from 'aedes';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TestBroker {
  url: string;
  aedes: Aedes;
  /** Every PUBLISH the broker accepted from a client, in arrival order. */
  published: AedesPublishPacket[];
  /** While false, CONNECT is refused: the hub is "down" without freeing the port. */
  accept: boolean;
  /** Drops a client's TCP connection without a DISCONNECT: the broker publishes its will. */
  kill(clientId: string): void;
  close(): Promise<void>;
}

export async function startBroker(): Promise<TestBroker> {
  const aedes = await Aedes.createBroker();
  const tb = { aedes, published: [] as AedesPublishPacket[], accept: true } as TestBroker;
  aedes.authenticate = (_c, _u, _p, cb) => cb(null, tb.accept);
  aedes.on('publish', (p: AedesPublishPacket, c: Client | null) => {
    if (c) tb.published.push(p);
  });
  const server: Server = createServer(aedes.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  tb.url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  tb.kill = (id) => (aedes as unknown as { clients: Record<string, { conn: { destroy(): void } }> }).clients[id]?.conn.destroy();
  tb.close = async () => {
    await new Promise<void>((r) => aedes.close(() => r()));
    await new Promise<void>((r) => server.close(() => r()));
  };
  return tb;
}
