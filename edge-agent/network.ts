// The agent's network start, after boot (run.ts): enrollment (first boot), tunnel, MQTT link, k3s
// inventory. Each part fails on its own and none of them gates enforcement: the agent hands in what
// the network needs from it (hooks) and reads back the link and the inventory source.
import { existsSync } from 'node:fs';
import { formatError } from '../base/index.ts';
import type { AgentStore, DeviceIdentity, Enrollment } from '../offline-store/index.ts';
import type { SigningKeysMessage, UpdateOrderMessage } from '../protocol/index.ts';
import type { Clock } from './clock.ts';
import type { AgentConfig } from './config.ts';
import { enroll } from './enroll.ts';
import { heartbeatBody, type HeartbeatFacts } from './heartbeat.ts';
import type { KubeInventory, KubeSnapshot } from './kube/types.ts';
import { Link } from './link.ts';
import type { Logger } from './logger.ts';
import type { AgentMetrics } from './metrics.ts';
import type { StateLine } from './state-line.ts';
import type { TunnelStatus } from './status-types.ts';
import { trustedKeysOf } from './bundle-intake.ts';
import { MeshAgent, type MeshTunnel } from './mesh/mesh-agent.ts';
import { meshReportInputs } from './mesh/report.ts';
import { MeshDns } from './mesh/mesh-dns.ts';
import { nftNat } from './mesh/nat.ts';
import type { MeshPeer } from '../policy/index.ts';
import { encode, topics } from '../protocol/index.ts';
import { AGENT_VERSION } from './version.ts';

/** The tunnel is optional and injected: the agent enforces and reports without it (e.g. a broker on the LAN). */
export interface TunnelComponent {
  up(enrollment: Enrollment, identity: DeviceIdentity): Promise<void>;
  status(): Promise<TunnelStatus>;
  /** The tunnel as site links use it (null while it is not up; absent: no site links over this tunnel). */
  mesh?(): MeshTunnel | null;
  down(): Promise<void>;
}

/** What the heartbeat says about enforcement: the agent's to tell. */
export type EnforcementFacts = Pick<HeartbeatFacts, 'enforcing' | 'appliedGeneration' | 'notEnforcing' | 'storeWritable' | 'podsAttached'>;

export interface NetworkOptions {
  config: AgentConfig;
  store: AgentStore;
  log: Logger;
  state: StateLine;
  metrics: AgentMetrics;
  clock: Clock;
  /** Aborted when the agent stops: ends an enrollment that is still retrying. */
  signal: AbortSignal;
  tunnel?: TunnelComponent;
  /** Creates the k3s inventory source; absent: no k3s. */
  kube?: () => KubeInventory;
  /** Whether the kernel datapath failed to load: that line outranks "not provisioned". */
  kernelFailing(): boolean;
  /** A first-boot enrollment just finished and set the state line; the agent may say more important things. */
  enrolled(): void;
  /** The site is known (enrolled, tunnel tried): bundles may be taken in from now on. */
  siteReady(siteId: string): void;
  enforcement(): EnforcementFacts;
  bundle(bytes: Buffer): Promise<void>;
  /** A key set from the hub (weft/v1/broadcast/keys). */
  signingKeys(msg: SigningKeysMessage): Promise<void>;
  /** An agent update order from the hub. */
  update(msg: UpdateOrderMessage): void;
  inventory(snapshot: KubeSnapshot): void;
  /** The linked sites changed (their pods join the inventory policy is compiled against). */
  remotePeers?(siteId: string, peers: readonly MeshPeer[]): void;
}

/** How often the site tells the hub what it offers linked sites (also on every k3s inventory change). */
const MESH_REPORT_MS = 10_000;

export class AgentNetwork {
  private linkRef: Link | null = null;
  private kubeRef: KubeInventory | null = null;
  private lastTunnel: TunnelStatus = { up: false, handshakeAgeS: null };
  private meshRef: MeshAgent | null = null;
  private meshSite: string | null = null;
  private meshDns: MeshDns | null = null;
  private meshTimer: NodeJS.Timeout | null = null;
  /** The latest k3s inventory (what this node serves, and the mesh report, are read from it). */
  private lastSnapshot: KubeSnapshot | null = null;

  constructor(private readonly o: NetworkOptions) {}

  get link(): Link | null {
    return this.linkRef;
  }
  get kube(): KubeInventory | null {
    return this.kubeRef;
  }
  get mesh(): MeshAgent | null {
    return this.meshRef;
  }

  /** Enrollment (first boot), tunnel, MQTT link, k3s. Returns once the link and k3s are started. */
  async start(): Promise<void> {
    const { store, config, log } = this.o;
    let enrollment = store.identity.enrollment();
    if (!enrollment) {
      if (!existsSync(config.provisionFile)) {
        // Not enforcing outranks not enrolled: it is the line a technician must not miss.
        if (!this.o.kernelFailing()) this.o.state.set({ kind: 'not-provisioned', provisionFile: config.provisionFile });
        return;
      }
      enrollment = await enroll({
        store,
        provisionFile: config.provisionFile,
        log,
        state: this.o.state,
        attempts: Infinity,
        retryPermanent: true,
        signal: this.o.signal,
        nodeName: config.nodeName,
      }).catch((e: unknown) => {
        log.error({ err: formatError(e) }, 'enrollment stopped');
        return null;
      });
      if (!enrollment || this.o.signal.aborted) return;
      this.o.enrolled();
    }
    const identity = store.identity.get();
    const tunnel = this.o.tunnel;
    if (tunnel && identity) {
      await tunnel
        .up(enrollment, identity)
        .catch((e: unknown) => log.error({ err: formatError(e) }, 'tunnel failed to come up; retried by the tunnel supervisor'));
      this.lastTunnel = await tunnel.status().catch(() => this.lastTunnel);
    }
    this.o.siteReady(enrollment.siteId);
    const node = enrollment.node;
    // Site links are a one-device site's for now: a node of a multi-node site does not run the mesh (its
    // site's mesh report would be one node's word for all of them).
    const meshTunnel = node === undefined ? (tunnel?.mesh?.() ?? null) : null;
    if (meshTunnel) await this.startMesh(enrollment.siteId, meshTunnel);
    this.linkRef = new Link({
      siteId: enrollment.siteId,
      ...(node !== undefined ? { node } : {}),
      url: enrollment.broker.url,
      urls: enrollment.broker.urls,
      username: enrollment.broker.username,
      password: enrollment.broker.password,
      outbox: store.outbox,
      log,
      metrics: this.o.metrics,
      agentVersion: AGENT_VERSION,
      protocolVersion: config.mqttProtocol,
      heartbeatIntervalS: enrollment.heartbeatIntervalS ?? config.heartbeatIntervalS,
      clock: () => this.o.clock.now(),
      heartbeat: () => {
        // The tunnel answers asynchronously: each heartbeat carries the answer fetched for the previous one.
        void tunnel?.status().then(
          (t) => (this.lastTunnel = t),
          () => undefined,
        );
        const body = heartbeatBody({
          ...this.o.enforcement(),
          kubeSynced: this.kubeRef ? this.kubeRef.status().synced : null,
          tunnel: tunnel ? this.lastTunnel : null,
        });
        // A node of a multi-node site says which site services it runs a pod of: the router sends users only to those nodes.
        return node !== undefined && this.lastSnapshot ? { ...body, serves: servedBy(this.lastSnapshot, config.nodeName) } : body;
      },
      onBundle: (bytes) => this.o.bundle(Buffer.from(bytes)),
      onSigningKeys: (msg) => this.o.signingKeys(msg),
      onUpdate: (msg) => this.o.update(msg),
      onPeers: this.meshRef ? (bytes) => this.meshRef?.accept(bytes) ?? Promise.resolve() : undefined,
    });
    this.linkRef.start();
    if (this.meshRef) {
      this.reportMesh(enrollment.siteId);
      this.meshTimer = setInterval(() => this.reportMesh(enrollment.siteId), MESH_REPORT_MS);
      this.meshTimer.unref();
    }
    if (this.o.kube) this.startKube(this.o.kube);
  }

  private startKube(make: () => KubeInventory): void {
    const kube = make();
    this.kubeRef = kube;
    const take = (snap: KubeSnapshot) => {
      this.lastSnapshot = snap;
      this.o.inventory(snap);
      if (this.meshSite) this.reportMesh(this.meshSite);
    };
    kube.on('change', take);
    kube.on('error', (e) => this.o.log.warn({ code: e.code, err: e.message }, 'k3s inventory error; retrying'));
    kube.start().then(take, (e: unknown) => this.o.log.warn({ err: formatError(e) }, 'k3s not reachable yet; enforcing with the last known inventory'));
  }

  /**
   * Site links: the peers kept in the store come back at once (the hub may be unreachable), then the
   * hub's bundles keep them current. Paths are looked at once a second.
   */
  private async startMesh(siteId: string, tunnel: MeshTunnel): Promise<void> {
    const { store, log } = this.o;
    const mesh = new MeshAgent({
      siteId,
      tunnel,
      nat: nftNat(),
      store: store.config,
      trustedKeys: () => trustedKeysOf(store),
      log: log.child({ part: 'mesh' }),
      now: () => this.o.clock.now(),
      onPeers: (peers) => this.o.remotePeers?.(siteId, peers),
      onPath: (peer, s) => {
        this.o.metrics.meshPath(peer, s.state);
        const st = this.meshRef?.status().find((p) => p.site === peer);
        if (st?.handshakeAgeS != null) this.o.metrics.meshHandshakeAge.set({ peer }, st.handshakeAgeS);
      },
    });
    await mesh.restore().catch((e: unknown) => log.warn({ err: formatError(e) }, 'site links from the store could not be restored'));
    mesh.start();
    this.meshRef = mesh;
    this.meshSite = siteId;
    if (this.o.config.meshDns) {
      const dns = new MeshDns({
        get peers() {
          return mesh.peers;
        },
        pathOf: (s) => mesh.pathOf(s),
      });
      try {
        const at = await dns.listen(this.o.config.meshDns);
        this.meshDns = dns;
        log.info(at, "answering linked sites' names (mesh.weft.internal)");
      } catch (e) {
        log.error({ err: formatError(e), listen: this.o.config.meshDns }, 'mesh DNS cannot listen; names of linked sites are not answered');
      }
    }
  }

  private reportMesh(siteId: string): void {
    const mesh = this.meshRef;
    const link = this.linkRef;
    if (!mesh || !link) return;
    const { config } = this.o;
    const snap = this.lastSnapshot;
    const report = mesh.report(meshReportInputs(config.meshExport ?? null, config.meshEndpoints, snap));
    link.publishRetained(topics.mesh(siteId), encode('mesh', report));
  }

  /** Stops the k3s watch and the link (gracefully: the hub sees `offline`). The tunnel is the agent's to take down. */
  async stop(): Promise<void> {
    if (this.meshTimer) clearInterval(this.meshTimer);
    this.meshRef?.stop();
    await this.meshDns?.close();
    await this.kubeRef?.stop().catch(() => undefined);
    await this.linkRef?.stop({ graceful: true });
  }
}

/** The pod label that names the site service a pod backs (`weft.dev/service: pos`). */
export const SERVICE_LABEL = 'weft.dev/service';

/** The site services with a running pod on this node, sorted. */
export function servedBy(snap: KubeSnapshot, nodeName: string): string[] {
  const names = new Set<string>();
  for (const p of snap.pods) if (p.node === nodeName && p.phase === 'Running' && p.labels[SERVICE_LABEL]) names.add(p.labels[SERVICE_LABEL]);
  return [...names].sort();
}
