// The site's side, configured from what enrollment returned: one peer, the hub; or, past one hub
// machine, one peer per hub node, each with its own overlay address, and the broker's address (the
// same on every node) routed to one of them. Each probe round asks every node (through its own
// address) whether it answers; failover.ts decides when the broker's address moves to another node.
import { lookup } from 'node:dns/promises';
import type { EnrollHubNode, EnrollWireguard } from '../protocol/index.ts';
import { TunnelError } from './errors.ts';
import { initialFailover, stepFailover, type FailoverState } from './failover.ts';
import { hostRoute } from './overlay.ts';
import { handshakeAgeS } from './model.ts';
import type { InterfaceSpec } from './wg-interface.ts';
import { WgInterface } from './wg-interface.ts';

/** The `wireguard` part of the enroll response. */
export type SiteTunnelConfig = EnrollWireguard;

export interface SiteTunnelOptions extends Omit<InterfaceSpec, 'addresses' | 'mtu' | 'routes'> {
  /**
   * Whether the hub node with this overlay address answers (e.g. a TCP connect to its broker port).
   * Without it, a tunnel to several nodes stays on the first one.
   */
  probe?: (address: string) => Promise<boolean>;
  /** Between probe rounds (default 2000 ms). */
  probeIntervalMs?: number;
  /** Rounds the active node may miss in a row before the broker's address moves (default 2). */
  missesToMove?: number;
}

/** A move of the broker's address, for logs and tests. */
export interface TunnelMove {
  from: string;
  to: string;
  /** When the active node's first missed probe started. */
  firstMissAt: number;
  at: number;
}

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
  private nodes: EnrollHubNode[] = [];
  private service: string[] = [];
  private failover: FailoverState | undefined;
  private timer: NodeJS.Timeout | undefined;
  private probing = false;
  private firstMissAt: number | null = null;
  /** Every move of the broker's address since up(). */
  readonly moves: TunnelMove[] = [];
  /** Linked sites' mapped blocks the active hub node carries (the relay). */
  private relayed: string[] = [];

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

  /** The hub node the broker's address is routed to (its name; the only hub's key without nodes). */
  get activeHub(): string | undefined {
    const key = this.failover?.active ?? this.hubPublicKey;
    return this.nodes.find((n) => n.publicKey === key)?.name ?? key;
  }

  async up(config: SiteTunnelConfig): Promise<void> {
    if (this.iface) await this.down();
    const hubRoutes = config.hubAddresses.map(hostRoute);
    const nodes = config.hubs?.length ? config.hubs : null;
    const endpoints = nodes ? await Promise.all(nodes.map((n) => resolveEndpoint(n.endpoint))) : [await resolveEndpoint(config.hubEndpoint)];
    const nodeRoutes = nodes ? nodes.flatMap((n) => n.addresses.map(hostRoute)) : [];
    const iface = new WgInterface({ ...this.opts, addresses: config.addresses, mtu: config.mtu, routes: [...hubRoutes, ...nodeRoutes] });
    await iface.up();
    try {
      if (!nodes) {
        await iface.setPeer({
          publicKey: config.hubPublicKey,
          endpoint: endpoints[0],
          allowedIps: hubRoutes,
          persistentKeepaliveS: config.persistentKeepaliveS,
        });
      } else {
        // The node that enrolled the site carries the broker's address first (else the first listed).
        const first = nodes.find((n) => n.publicKey === config.hubPublicKey) ?? nodes[0];
        for (const [i, n] of nodes.entries()) {
          const own = n.addresses.map(hostRoute);
          await iface.setPeer({
            publicKey: n.publicKey,
            endpoint: endpoints[i],
            allowedIps: n === first ? [...own, ...hubRoutes] : own,
            persistentKeepaliveS: config.persistentKeepaliveS,
          });
        }
        this.failover = initialFailover(first.publicKey);
      }
    } catch (err) {
      await iface.down();
      throw err;
    }
    this.iface = iface;
    this.hubPublicKey = config.hubPublicKey;
    this.nodes = nodes ?? [];
    this.service = hubRoutes;
    this.moves.length = 0;
    if (nodes && nodes.length > 1 && this.opts.probe) {
      this.timer = setInterval(() => void this.probeRound(), this.opts.probeIntervalMs ?? 2000);
      this.timer.unref();
    }
  }

  /** The active hub node's public key (null before up()). */
  get hub(): string | null {
    return this.failover?.active ?? this.hubPublicKey ?? null;
  }

  /**
   * Prefixes the active hub node carries besides its own: linked sites whose direct path is down are
   * reached through the hub (the relay). WireGuard gives a prefix to one peer, so the caller moves a
   * site's mapped block between that site's peer and the hub. (A failover to another hub node does not
   * carry them over: the mesh agent sets them again on its next path change.)
   */
  async setHubRelayed(prefixes: string[]): Promise<void> {
    const key = this.hub;
    const cur = key ? this.current.peerConfig(key) : undefined;
    if (!cur) throw new TunnelError('TUNNEL_NOT_UP', 'the site tunnel is not up', 'call up(config) first');
    const base = (cur.allowedIps ?? []).filter((a) => !this.relayed.includes(a));
    this.relayed = prefixes;
    await this.current.setPeer({ ...cur, allowedIps: [...base, ...prefixes] });
  }

  /** One probe round over every node; moves the broker's address when failover.ts says so. */
  async probeRound(): Promise<TunnelMove | undefined> {
    const probe = this.opts.probe;
    if (!probe || !this.failover || !this.iface || this.probing) return undefined;
    this.probing = true;
    try {
      const started = this.now();
      const answered: Record<string, boolean> = {};
      await Promise.all(
        this.nodes.map(async (n) => {
          const v4 = n.addresses.find((a) => !a.includes(':')) ?? n.addresses[0];
          answered[n.publicKey] = await probe(v4.split('/')[0]).catch(() => false);
        }),
      );
      const prev = this.failover;
      if (!answered[prev.active]) this.firstMissAt ??= started;
      else this.firstMissAt = null;
      const step = stepFailover(
        prev,
        answered,
        this.nodes.map((n) => n.publicKey),
        this.opts.missesToMove ?? 2,
      );
      this.failover = step.state;
      if (!step.move) return undefined;
      const to = this.nodes.find((n) => n.publicKey === step.move!.to)!;
      const from = this.nodes.find((n) => n.publicKey === step.move!.from)!;
      // Adding the address to the new node takes it from the old one (WireGuard's allowed IPs are
      // unique); the old node then keeps only its own address.
      await this.iface.setPeer({ ...this.peerOf(to), allowedIps: [...to.addresses.map(hostRoute), ...this.service] });
      await this.iface.setPeer({ ...this.peerOf(from), allowedIps: from.addresses.map(hostRoute) });
      const move: TunnelMove = { from: from.name, to: to.name, firstMissAt: this.firstMissAt ?? started, at: this.now() };
      this.firstMissAt = null;
      this.moves.push(move);
      this.iface.logger.warn({ ...move, tookMs: move.at - move.firstMissAt }, 'hub node not answering: broker address moved to another node');
      return move;
    } finally {
      this.probing = false;
    }
  }

  private peerOf(n: EnrollHubNode): { publicKey: string; endpoint?: string; persistentKeepaliveS?: number } {
    const cur = this.iface?.peerConfig(n.publicKey);
    return { publicKey: n.publicKey, endpoint: cur?.endpoint, persistentKeepaliveS: cur?.persistentKeepaliveS };
  }

  /** Seconds since the last handshake with the hub (the active node); null before the first one (or when down). */
  async handshakeAgeS(): Promise<number | null> {
    if (!this.iface) return null;
    const state = await this.iface.state();
    const key = this.failover?.active ?? this.hubPublicKey;
    const hub = state.peers.find((p) => p.publicKey === key);
    return handshakeAgeS(hub?.lastHandshakeMs ?? null, this.now());
  }

  async down(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    const iface = this.iface;
    this.iface = undefined;
    await iface?.down();
  }
}
