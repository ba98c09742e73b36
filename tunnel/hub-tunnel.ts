// The hub's side: one interface, one peer per enrolled site (added at enrollment, removed at
// revocation), and the per-site view health and `weft` need.
import { decodeKey } from './keys.ts';
import type { InterfaceSpec } from './wg-interface.ts';
import { WgInterface } from './wg-interface.ts';
import { handshakeAgeS } from './model.ts';
import { TunnelError } from './errors.ts';
import { hostRoute } from './overlay.ts';

export type HubTunnelOptions = InterfaceSpec & {
  listenPort: number;
  /**
   * Keepalive towards each site (default 25 s). With the site endpoints the interface has seen,
   * it lets a restarted hub daemon re-handshake at once instead of waiting ~15 s for the sites.
   */
  peerKeepaliveS?: number;
};

export interface HubPeer {
  siteId: string;
  publicKey: string;
  addresses: string[];
  /** The site's address as last seen by WireGuard, null before its first packet. */
  endpoint: string | null;
  handshakeAgeS: number | null;
  rxBytes: number;
  txBytes: number;
}

export class HubTunnel {
  readonly iface: WgInterface;
  private readonly sites = new Map<string, { publicKey: string; addresses: string[] }>();

  private readonly keepaliveS: number;

  constructor(
    opts: HubTunnelOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.iface = new WgInterface(opts);
    this.keepaliveS = opts.peerKeepaliveS ?? 25;
  }

  get publicKey(): string {
    return this.iface.publicKey;
  }

  up(): Promise<void> {
    return this.iface.up();
  }

  /**
   * Adds a site, or replaces its key and addresses (re-enrollment with a new device key). `routed`:
   * prefixes behind the site kept as they are (its mapped block, so the hub can relay linked sites).
   */
  async addPeer(siteId: string, publicKey: string, addresses: string[], routed: string[] = []): Promise<void> {
    decodeKey(publicKey, `public key of site ${siteId}`);
    const clash = [...this.sites].find(([id, s]) => id !== siteId && s.publicKey === publicKey);
    if (clash)
      throw new TunnelError('TUNNEL_BAD_CONFIG', `site ${siteId} presents the public key of site ${clash[0]}`, 'every site needs its own WireGuard key');
    const old = this.sites.get(siteId);
    if (old && old.publicKey !== publicKey) await this.iface.removePeer(old.publicKey);
    await this.iface.setPeer({ publicKey, allowedIps: [...addresses.map(hostRoute), ...routed], persistentKeepaliveS: this.keepaliveS });
    this.sites.set(siteId, { publicKey, addresses });
  }

  /** Revocation: the site's packets are no longer accepted. Unknown sites are a no-op. */
  async removePeer(siteId: string): Promise<void> {
    const site = this.sites.get(siteId);
    if (!site) return;
    await this.iface.removePeer(site.publicKey);
    this.sites.delete(siteId);
  }

  async peers(): Promise<HubPeer[]> {
    const state = await this.iface.state();
    const now = this.now();
    return [...this.sites].map(([siteId, site]) => {
      const p = state.peers.find((x) => x.publicKey === site.publicKey);
      return {
        siteId,
        publicKey: site.publicKey,
        addresses: site.addresses,
        endpoint: p?.endpoint ?? null,
        handshakeAgeS: handshakeAgeS(p?.lastHandshakeMs ?? null, now),
        rxBytes: p?.rxBytes ?? 0,
        txBytes: p?.txBytes ?? 0,
      };
    });
  }

  down(): Promise<void> {
    return this.iface.down();
  }
}
