// One WireGuard interface and its desired state (key, port, addresses, MTU, routes, peers).
// The whole state is re-applied whenever the link is fresh, so a restarted wireguard-go comes
// back configured without the caller noticing more than a short gap.
import pino from 'pino';
import type { Logger } from 'pino';
import type { BackendPreference } from './backend.ts';
import { createDevice } from './backend.ts';
import type { WgDevice } from './device.ts';
import { TunnelError } from './errors.ts';
import { addAddress, addRoute, linkUp, setMtu } from './iproute2.ts';
import type { WgPrivateKey } from './keys.ts';
import type { DeviceState, PeerConfig } from './model.ts';
import type { BackoffOptions } from './supervisor.ts';

export interface InterfaceSpec {
  ifname: string;
  netns?: string;
  privateKey: WgPrivateKey;
  listenPort?: number;
  /** Interface addresses with prefix length. */
  addresses: string[];
  mtu?: number;
  /** Extra prefixes routed into the tunnel (beyond the addresses' own connected routes). */
  routes?: string[];
  backend?: BackendPreference;
  logger?: Logger;
  wireguardGo?: string;
  backoff?: Partial<BackoffOptions>;
}

export const DEFAULT_MTU = 1420;

export class WgInterface {
  private device: WgDevice | undefined;
  private readonly peers = new Map<string, PeerConfig>();
  /** Endpoints last seen per peer, so a restarted daemon can dial peers that roamed to us. */
  private readonly seenEndpoints = new Map<string, string>();
  /**
   * The port the first daemon picked when none was configured: kept across restarts so peers
   * (and NATs) holding our endpoint still reach us.
   */
  private pickedPort: number | undefined;
  readonly logger: Logger;

  constructor(readonly spec: InterfaceSpec) {
    this.logger = spec.logger ?? pino({ level: 'silent' });
  }

  get publicKey(): string {
    return this.spec.privateKey.publicKey();
  }

  /** The running device (its kind, and for wireguard-go its supervisor). */
  get current(): WgDevice {
    if (!this.device) throw new TunnelError('TUNNEL_NOT_UP', `WireGuard interface ${this.spec.ifname} is not up`, 'call up() first');
    return this.device;
  }

  async up(): Promise<void> {
    if (this.device) return;
    const device = await createDevice({
      ifname: this.spec.ifname,
      netns: this.spec.netns,
      backend: this.spec.backend,
      logger: this.logger,
      wireguardGo: this.spec.wireguardGo,
      backoff: this.spec.backoff,
    });
    try {
      await device.start(() => this.applyAll(device));
    } catch (err) {
      // e.g. a bad address: do not leave a half-configured link behind
      await device.stop().catch(() => {});
      throw err;
    }
    this.device = device;
  }

  private async applyAll(device: WgDevice): Promise<void> {
    const where = { netns: this.spec.netns };
    const name = this.spec.ifname;
    const peers = [...this.peers.values()].map((p) => ({ ...p, endpoint: p.endpoint ?? this.seenEndpoints.get(p.publicKey) }));
    await device.control.set({ privateKey: this.spec.privateKey, listenPort: this.spec.listenPort ?? this.pickedPort, replacePeers: true, peers });
    if (this.spec.listenPort === undefined && this.pickedPort === undefined) this.pickedPort = (await device.control.get()).listenPort;
    await setMtu(name, this.spec.mtu ?? DEFAULT_MTU, where);
    for (const a of this.spec.addresses) await addAddress(name, a, where);
    await linkUp(name, where);
    for (const r of this.spec.routes ?? []) await addRoute(r, name, where);
    this.logger.info({ ifname: name, netns: this.spec.netns, peers: this.peers.size }, 'WireGuard interface configured');
  }

  /** Adds or updates a peer; its allowed IPs are replaced by the given ones. */
  async setPeer(peer: PeerConfig): Promise<void> {
    const full: PeerConfig = { ...peer, replaceAllowedIps: true };
    const before = this.peers.get(peer.publicKey);
    // Recorded first, so a daemon restart racing with this call re-applies the peer.
    this.peers.set(peer.publicKey, full);
    try {
      await this.current.control.set({ peers: [full] });
    } catch (err) {
      // A rejected peer must not poison later re-applies of the whole state. The daemon applies a
      // set line by line, so it may hold a half-configured peer: put back what was there before.
      if (err instanceof TunnelError && err.code !== 'TUNNEL_UAPI_CONNECT') {
        if (before) this.peers.set(peer.publicKey, before);
        else this.peers.delete(peer.publicKey);
        await this.current.control
          .set({ peers: [before ?? { publicKey: peer.publicKey, remove: true }] })
          .catch((undo: Error) => this.logger.warn({ err: undo.message }, 'cannot undo a rejected peer'));
      }
      throw err;
    }
  }

  /** The desired configuration of a peer, as last set. */
  peerConfig(publicKey: string): PeerConfig | undefined {
    return this.peers.get(publicKey);
  }

  async removePeer(publicKey: string): Promise<void> {
    this.peers.delete(publicKey);
    this.seenEndpoints.delete(publicKey);
    await this.current.control.set({ peers: [{ publicKey, remove: true }] });
  }

  async state(): Promise<DeviceState> {
    const state = await this.current.control.get();
    for (const p of state.peers) if (p.endpoint) this.seenEndpoints.set(p.publicKey, p.endpoint);
    return state;
  }

  async down(): Promise<void> {
    const device = this.device;
    this.device = undefined;
    await device?.stop();
  }
}
