// The agent's side of site links. It takes the hub's signed peer bundle (verified, kept in the store
// so links come back after a restart without the hub), configures one WireGuard peer per linked site
// on the site's tunnel interface (their public key, the endpoint the hub observed, a 1 s keepalive:
// both sides start handshaking at once, which opens both NATs), maps addresses (nat.ts), and once a
// second decides each link's path (tunnel/mesh-path.ts): the linked site's mapped block belongs to its
// own peer while the direct path carries bytes, to the hub peer (the relay) while it does not.
import { cidrContains, errorMessage, parseCidr, parseIp } from '../../base/index.ts';
import type { JsonValue } from '../../offline-store/index.ts';
import { BundleError, verifyMesh, type MeshPayload, type MeshPeer } from '../../policy/index.ts';
import { MappedPlan, type MeshPathReport, type MeshReport } from '../../protocol/index.ts';
import {
  handshakeAgeS,
  initialPath,
  MESH_KEEPALIVE_S,
  PATH_DEFAULTS,
  stepPath,
  type DeviceState,
  type PathConfig,
  type PathStatus,
  type PeerConfig,
} from '../../tunnel/index.ts';
import type { KeyObject } from 'node:crypto';
import type { Logger } from '../logger.ts';
import type { NatApplier } from './nat.ts';

export const MESH_KEY = 'mesh.peers';

/** The tunnel as the mesh needs it (SiteTunnel and its interface; a fake in unit tests). */
export interface MeshTunnel {
  readonly ifname: string;
  /** The hub peer's key, null while the tunnel is not up. */
  hubKey(): string | null;
  setPeer(p: PeerConfig): Promise<void>;
  removePeer(publicKey: string): Promise<void>;
  state(): Promise<DeviceState>;
  /** The linked sites' mapped blocks the hub peer carries (the relayed ones). */
  setHubRelayed(prefixes: string[]): Promise<void>;
  /** Prefixes routed into the interface (every linked site's mapped block). */
  setRoutes(prefixes: string[]): Promise<void>;
}

export interface MeshConfigStore {
  get<T extends JsonValue>(key: string): T | undefined;
  set(key: string, value: JsonValue): void;
}

export interface MeshAgentOptions {
  siteId: string;
  tunnel: MeshTunnel;
  nat: NatApplier;
  store: MeshConfigStore;
  trustedKeys(): ReadonlyMap<string, KeyObject>;
  log: Logger;
  now(): number;
  plan?: MappedPlan;
  path?: PathConfig;
  /** Called with the linked sites whenever the bundle changes (the enforcer recompiles with their pods). */
  onPeers?(peers: readonly MeshPeer[]): void;
  /** Called when a link's path changes (metrics). */
  onPath?(peer: string, status: PathStatus): void;
  /** How long one endpoint candidate is tried before the next (ms, default 6000). */
  candidateMs?: number;
}

export interface MeshPeerStatus {
  site: string;
  state: MeshPathReport['state'];
  since: string;
  handshakeAgeS: number | null;
  endpoint: string | null;
  mappedPrefix: string;
  rxBytes: number;
  txBytes: number;
}

interface Live {
  peer: MeshPeer;
  path: PathStatus;
  candidate: number;
  candidateSince: number;
}

export class MeshAgent {
  private payload: MeshPayload | null = null;
  private readonly live = new Map<string, Live>();
  private lastState: DeviceState | null = null;
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> = Promise.resolve();
  private readonly plan: MappedPlan;

  constructor(private readonly o: MeshAgentOptions) {
    this.plan = o.plan ?? new MappedPlan();
  }

  get peers(): readonly MeshPeer[] {
    return this.payload?.peers ?? [];
  }
  get self(): MeshPayload['self'] {
    return this.payload?.self ?? null;
  }

  /** The bundle kept in the store (verified when it arrived): links come back without the hub. */
  async restore(): Promise<boolean> {
    const saved = this.o.store.get<{ payload: string }>(MESH_KEY);
    if (!saved) return false;
    await this.apply(JSON.parse(saved.payload) as MeshPayload);
    this.o.log.info({ peers: this.peers.map((p) => p.siteId), generation: this.payload?.generation }, 'site links restored from the store');
    return true;
  }

  /** A peer bundle from the hub: verified, stored, then applied. A bad one changes nothing. */
  async accept(bytes: Buffer): Promise<void> {
    let p: MeshPayload;
    try {
      p = verifyMesh(bytes, { trustedKeys: this.o.trustedKeys(), siteId: this.o.siteId, heldGeneration: this.payload?.generation ?? 0 });
    } catch (e) {
      if (e instanceof BundleError && e.code === 'BUNDLE_STALE_GENERATION') return; // the retained one again
      this.o.log.warn({ err: errorMessage(e), code: (e as BundleError).code }, 'peer bundle refused');
      return;
    }
    this.o.store.set(MESH_KEY, { payload: JSON.stringify(p) });
    await this.apply(p);
  }

  private async apply(p: MeshPayload): Promise<void> {
    const t = this.o.tunnel;
    const now = this.o.now();
    const wanted = new Map(p.peers.map((x) => [x.siteId, x]));
    for (const [id, l] of [...this.live]) {
      const w = wanted.get(id);
      if (w && w.publicKey === l.peer.publicKey) continue;
      await t.removePeer(l.peer.publicKey);
      this.live.delete(id);
    }
    for (const peer of p.peers) {
      const l = this.live.get(peer.siteId);
      this.live.set(peer.siteId, l ? { ...l, peer } : { peer, path: initialPath(now), candidate: 0, candidateSince: now });
    }
    this.payload = p;
    await this.o.nat({ ifname: t.ifname, self: p.self, pool: this.plan.poolPrefix });
    await t.setRoutes(p.peers.map((x) => x.mappedPrefix));
    for (const l of this.live.values()) await this.configure(l);
    await this.relay();
    this.o.onPeers?.(p.peers);
    this.o.log.info({ peers: p.peers.map((x) => x.siteId), generation: p.generation }, 'site links applied');
  }

  /** The peer as its path wants it: the mapped block on it only while direct. */
  private configure(l: Live): Promise<void> {
    const endpoint = l.peer.endpoints.length ? l.peer.endpoints[l.candidate % l.peer.endpoints.length] : undefined;
    return this.o.tunnel.setPeer({
      publicKey: l.peer.publicKey,
      endpoint,
      allowedIps: [...l.peer.overlay, ...(l.path.state === 'direct' ? [l.peer.mappedPrefix] : [])],
      persistentKeepaliveS: MESH_KEEPALIVE_S,
    });
  }

  private relay(): Promise<void> {
    return this.o.tunnel.setHubRelayed([...this.live.values()].filter((l) => l.path.state !== 'direct').map((l) => l.peer.mappedPrefix));
  }

  start(intervalMs = 1000): void {
    this.timer = setInterval(() => void this.tick(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One look at the device: each link's path, and the peers moved when one changed. */
  tick(): Promise<void> {
    this.ticking = this.ticking.then(() => this.step().catch((e: unknown) => this.o.log.warn({ err: errorMessage(e) }, 'mesh path check failed')));
    return this.ticking;
  }

  private async step(): Promise<void> {
    if (this.live.size === 0 || !this.o.tunnel.hubKey()) return;
    const state = await this.o.tunnel.state();
    this.lastState = state;
    const now = this.o.now();
    const hub = state.peers.find((p) => p.publicKey === this.o.tunnel.hubKey());
    const relayUp = hub?.lastHandshakeMs != null && now - hub.lastHandshakeMs < (this.o.path ?? PATH_DEFAULTS).sessionMs;
    let moved = false;
    for (const l of this.live.values()) {
      const d = state.peers.find((p) => p.publicKey === l.peer.publicKey);
      const next = stepPath(l.path, { nowMs: now, rxBytes: d?.rxBytes ?? 0, lastHandshakeMs: d?.lastHandshakeMs ?? null, relayUp }, this.o.path);
      const changed = next.state !== l.path.state;
      l.path = next;
      if (changed) {
        moved = true;
        this.o.log.info({ peer: l.peer.siteId, state: next.state, endpoint: d?.endpoint ?? null }, 'site link path changed');
        await this.configure(l);
      } else if (next.state !== 'direct' && l.peer.endpoints.length > 1 && now - l.candidateSince >= (this.o.candidateMs ?? 6000)) {
        // No direct path on this candidate: try the next one the hub gave (its observed endpoint, then the site's own).
        l.candidate++;
        l.candidateSince = now;
        await this.configure(l);
      }
      this.o.onPath?.(l.peer.siteId, next);
    }
    if (moved) await this.relay();
  }

  /** The linked site whose mapped block holds this address, null for any other. */
  siteOf(ip: string): string | null {
    const a = parseIp(ip);
    if (!a) return null;
    for (const l of this.live.values()) {
      const c = parseCidr(l.peer.mappedPrefix);
      if (c && cidrContains(c, a)) return l.peer.siteId;
    }
    return null;
  }

  /** The path to a linked site now (undefined: not linked). */
  pathOf(site: string): MeshPeerStatus['state'] | undefined {
    return this.live.get(site)?.path.state;
  }

  status(): MeshPeerStatus[] {
    const now = this.o.now();
    return [...this.live.values()].map((l) => {
      const d = this.lastState?.peers.find((p) => p.publicKey === l.peer.publicKey);
      return {
        site: l.peer.siteId,
        state: l.path.state,
        since: new Date(l.path.sinceMs).toISOString(),
        handshakeAgeS: handshakeAgeS(d?.lastHandshakeMs ?? null, now),
        endpoint: d?.endpoint ?? null,
        mappedPrefix: l.peer.mappedPrefix,
        rxBytes: d?.rxBytes ?? 0,
        txBytes: d?.txBytes ?? 0,
      };
    });
  }

  /** What this site tells the hub: its export prefix, own endpoints, pods inside the prefix, and its paths. */
  report(o: { exportPrefix: string | null; endpoints: string[]; namespaces: MeshReport['namespaces']; pods: MeshReport['pods'] }): MeshReport {
    return {
      v: 1,
      at: new Date(this.o.now()).toISOString(),
      exportPrefix: o.exportPrefix,
      endpoints: o.endpoints,
      namespaces: o.namespaces,
      pods: o.pods,
      paths: this.status().map((s) => ({ peer: s.site, state: s.state, handshakeAgeS: s.handshakeAgeS, since: s.since })),
    };
  }
}
