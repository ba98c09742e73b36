// The site's side: one peer, the hub, configured from what enrollment returned.
import { lookup } from 'node:dns/promises';
import type { EnrollWireguard } from '../protocol/index.ts';
import { TunnelError } from './errors.ts';
import { hostRoute } from './overlay.ts';
import { handshakeAgeS, type PeerConfig } from './model.ts';
import type { InterfaceSpec } from './wg-interface.ts';
import { WgInterface } from './wg-interface.ts';

/** The `wireguard` part of the enroll response. */
export type SiteTunnelConfig = EnrollWireguard;

export type SiteTunnelOptions = Omit<InterfaceSpec, 'addresses' | 'mtu' | 'routes'>;

/** Splits host:port / [v6]:port and resolves a host name, since WireGuard takes numeric endpoints only. */
export async function resolveEndpoint(hostPort: string): Promise<string> {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(hostPort);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535)
    throw new TunnelError('TUNNEL_BAD_CONFIG', `hub endpoint "${hostPort}" is not host:port`, 'e.g. 203.0.113.5:51820 or [2001:db8::5]:51820');
  const host = m[1] ?? m[2];
  const { address, family } = await lookup(host).catch((err: Error) => {
    throw new TunnelError('TUNNEL_BAD_CONFIG', `cannot resolve hub endpoint host "${host}": ${err.message}`);
  });
  return family === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

export class SiteTunnel {
  private iface: WgInterface | undefined;
  private hubPublicKey: string | undefined;
  private hubPeer: PeerConfig | undefined;

  constructor(
    private readonly opts: SiteTunnelOptions,
    private readonly now: () => number = Date.now,
  ) {}

  get publicKey(): string {
    return this.opts.privateKey.publicKey();
  }

  /** The interface, once up (tests reach the wireguard-go supervisor through it). */
  get current(): WgInterface {
    if (!this.iface) throw new TunnelError('TUNNEL_NOT_UP', 'the site tunnel is not up', 'call up(config) first');
    return this.iface;
  }

  async up(config: SiteTunnelConfig): Promise<void> {
    if (this.iface) await this.down();
    const endpoint = await resolveEndpoint(config.hubEndpoint);
    const hubRoutes = config.hubAddresses.map(hostRoute);
    const iface = new WgInterface({ ...this.opts, addresses: config.addresses, mtu: config.mtu, routes: hubRoutes });
    await iface.up();
    const hubPeer: PeerConfig = { publicKey: config.hubPublicKey, endpoint, allowedIps: hubRoutes, persistentKeepaliveS: config.persistentKeepaliveS };
    try {
      await iface.setPeer(hubPeer);
    } catch (err) {
      await iface.down();
      throw err;
    }
    this.iface = iface;
    this.hubPublicKey = config.hubPublicKey;
    this.hubPeer = hubPeer;
  }

  /** The hub peer's public key (null before up()). */
  get hub(): string | null {
    return this.hubPublicKey ?? null;
  }

  /**
   * Prefixes the hub carries besides its own addresses: linked sites whose direct path is down are
   * reached through the hub (the relay). WireGuard gives a prefix to one peer, so the caller moves a
   * site's mapped block between that site's peer and the hub.
   */
  async setHubRelayed(prefixes: string[]): Promise<void> {
    const hub = this.hubPeer;
    if (!hub) throw new TunnelError('TUNNEL_NOT_UP', 'the site tunnel is not up', 'call up(config) first');
    await this.current.setPeer({ ...hub, allowedIps: [...(hub.allowedIps ?? []), ...prefixes] });
  }

  /** Seconds since the last handshake with the hub; null before the first one (or when down). */
  async handshakeAgeS(): Promise<number | null> {
    if (!this.iface) return null;
    const state = await this.iface.state();
    const hub = state.peers.find((p) => p.publicKey === this.hubPublicKey);
    return handshakeAgeS(hub?.lastHandshakeMs ?? null, this.now());
  }

  async down(): Promise<void> {
    const iface = this.iface;
    this.iface = undefined;
    await iface?.down();
  }
}
