// The hub's own MQTT clients (full access), shared by every broker kind: each call makes a new
// client with its own id, and closeAll() ends them when the broker closes.
import { errorMessage } from '../../base/index.ts';
import { randomBytes } from 'node:crypto';
import { connectAsync, type MqttClient } from 'mqtt';
import { BrokerError, HUB_USERNAME } from './types.ts';

export interface HubClientTarget {
  host: string;
  port: number;
  /** PEM chain of the broker's own certificate when it speaks TLS: pinned, nothing else trusted. */
  tlsCert?: string | Buffer;
  password: string;
  /** Several nodes of one cluster (NATS): the client moves to the next on each reconnect. */
  servers?: { host: string; port: number }[];
}

/** Picks loopback when listed: the hub talks to its own broker without touching the tunnel. */
export function preferLoopback(hosts: string[]): string {
  return hosts.find((h) => h === '127.0.0.1' || h === '::1' || h === 'localhost') ?? hosts[0];
}

export function brokerUrl(host: string, port: number, tls: boolean): string {
  return `${tls ? 'mqtts' : 'mqtt'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export class HubClients {
  private readonly clients = new Set<MqttClient>();
  private seq = 0;

  constructor(private readonly target: () => HubClientTarget) {}

  async connect(): Promise<MqttClient> {
    const t = this.target();
    const clientId = `${HUB_USERNAME}.${++this.seq}.${randomBytes(4).toString('hex')}`;
    try {
      const client = await connectAsync(brokerUrl(t.host, t.port, t.tlsCert !== undefined), {
        clientId,
        username: HUB_USERNAME,
        password: t.password,
        protocolVersion: 4,
        clean: true,
        reconnectPeriod: 1000,
        connectTimeout: 10_000,
        ...(t.servers && t.servers.length > 1 ? { servers: t.servers } : {}),
        ...(t.tlsCert ? { ca: t.tlsCert, checkServerIdentity: () => undefined } : {}),
      });
      this.clients.add(client);
      client.once('end', () => this.clients.delete(client));
      return client;
    } catch (err) {
      throw new BrokerError('BROKER_HUB_CLIENT', `hub client could not connect to its broker: ${errorMessage(err)}`);
    }
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.clients].map((c) => c.endAsync(true)));
    this.clients.clear();
  }
}
