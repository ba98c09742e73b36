// `weft-agent run`: the start sequence. Its promise is the order:
//   boot (boot.ts): open store -> datapath -> last-known-good verified and adopted or applied -> ENFORCING
//   -> only then the network: enrollment (first boot), tunnel, MQTT link, k3s inventory.
// Nothing after "enforcing" can take enforcement away: every network part fails on its own (network.ts).
// Fail closed: when the kernel datapath cannot load, the agent still starts its network (link, heartbeats,
// status API), says `not enforcing` with the coded error everywhere (state line, status, /readyz, the hub),
// and retries the kernel datapath until it loads; then the boot sequence completes as at start.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentStore, JsonValue, OpenStoreOptions } from '../offline-store/index.ts';
import { compile } from '../policy/index.ts';
import { encode, topics, type AckMessage, type NotEnforcing, type SigningKeysMessage, type VerdictRecord } from '../protocol/index.ts';
import { bootEnforcement, INVENTORY_KEY, openAgentStore, type Booted, type OpenedStore } from './boot.ts';
import { acceptKeySet, BundleIntake } from './bundle-intake.ts';
import { systemClock, type Clock } from './clock.ts';
import type { AgentConfig } from './config.ts';
import { libbpfLoader, type KernelLoader, type SelectedDatapath } from './datapath-select.ts';
import { EMPTY_SNAPSHOT, type CompileFn, type Enforcer } from './enforcer.ts';
import { errorCode, errorMessage, formatError } from '../base/index.ts';
import { AgentError } from './errors.ts';
import { FqdnKeeper, hasLearnedMap } from './fqdn-keeper.ts';
import type { KubeInventory, KubeSnapshot } from './kube/types.ts';
import type { Logger } from './logger.ts';
import type { Link } from './link.ts';
import { createMetrics, type AgentMetrics } from './metrics.ts';
import { AgentNetwork, type EnforcementFacts, type TunnelComponent } from './network.ts';
import type { RestoreResult } from './restore.ts';
import { StateLine } from './state-line.ts';
import { StatusApi } from './status-api.ts';
import type { AgentStatus } from './status-types.ts';
import { podVethResolver, type VethResolver } from './veth.ts';
import { VerdictPump } from './verdicts.ts';
import { UpdateOrders } from './update/orders.ts';
import { Slots } from './update/slots.ts';
import { AGENT_VERSION } from './version.ts';

export interface RunDeps {
  log: Logger;
  /** Default: the system clock. */
  clock?: Clock;
  /** Tests inject a datapath; otherwise selectDatapath(config.datapath). */
  datapath?: SelectedDatapath;
  /** Opens the kernel datapath under `datapath: libbpf`; default LibbpfDatapath on config.pinRoot. */
  loadKernel?: KernelLoader;
  /** How often a kernel datapath that failed to load is tried again. Default 10 s. */
  datapathRetryMs?: number;
  tunnel?: TunnelComponent;
  /** Creates the k3s inventory source (kube-source.ts picks it from the config); absent: no k3s. */
  kube?: () => KubeInventory;
  resolveVeth?: VethResolver;
  compile?: CompileFn;
  metrics?: AgentMetrics;
  /** Extra store options (tests: readonly, maxPageCount to simulate a full disk). */
  storeOptions?: OpenStoreOptions;
}

const RECENT_FLOWS = 1000;
const DATAPATH_RETRY_MS = 10_000;
/** What the hub is told when the config asks for the in-memory datapath: it filters nothing. */
const MEMORY_NOT_ENFORCING: NotEnforcing = { code: 'DATAPATH_MEMORY', reason: 'in-memory datapath (asked for by config): packets are not filtered' };

export class Agent {
  readonly metrics: AgentMetrics;
  readonly state: StateLine;
  private readonly clock: Clock;
  private opened: OpenedStore = { store: null, error: null, unavailable: null };
  private booted: Booted | null = null;
  /** Why the kernel datapath could not load at the last attempt (null: loaded, or not tried yet). */
  private kernelError: AgentError | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  /** The newest bundle that arrived while nothing could enforce it: taken in once the datapath loads. */
  private heldBundle: Buffer | null = null;
  /** The newest k3s inventory that arrived before the enforcer existed. */
  private heldInventory: KubeSnapshot | null = null;
  private siteId: string | null = null;
  private network: AgentNetwork | null = null;
  private intakeRef: BundleIntake | null = null;
  private statusApi: StatusApi | null = null;
  private port = 0;
  private enforcingSince: number | null = null;
  private timeToEnforcingS: number | null = null;
  private pump: VerdictPump | null = null;
  private fqdnKeeper: FqdnKeeper | null = null;
  private readonly recent: VerdictRecord[] = [];
  private readonly abort = new AbortController();
  private stopped = false;
  /** Agent update orders from the hub, installed by a child `weft-agent update apply` (update/orders.ts). */
  private readonly updates: UpdateOrders;

  constructor(
    readonly config: AgentConfig,
    private readonly deps: RunDeps,
  ) {
    this.metrics = deps.metrics ?? createMetrics();
    this.clock = deps.clock ?? systemClock;
    this.state = new StateLine(config.stateFile, (line) => deps.log.info({ state: line }, 'state'), config.console);
    const updateDir = join(config.dataDir, 'agent');
    try {
      mkdirSync(updateDir, { recursive: true, mode: 0o700 });
    } catch (e) {
      // A read-only data dir still enforces; an update order then fails and is logged.
      deps.log.warn({ err: errorMessage(e) }, 'no update folder; agent updates cannot be installed');
    }
    const restart = process.env.WEFT_UPDATE_RESTART_CMD;
    this.updates = new UpdateOrders({
      slots: new Slots(updateDir),
      flags: () => [
        '--data-dir',
        config.dataDir,
        '--status-port',
        String(this.port),
        '--pin-root',
        config.pinRoot,
        ...(restart ? ['--restart-cmd', restart] : []),
      ],
      report: (update) =>
        this.queue(topics.events, encode('events', { v: 1, seq: 0, at: new Date(this.clock.now()).toISOString(), type: 'update', update }), 'high'),
      log: (m) => deps.log.info(m),
    });
  }

  private get log(): Logger {
    return this.deps.log;
  }

  get store(): AgentStore | null {
    return this.opened.store;
  }
  /** Null while the kernel datapath cannot load. */
  get enforcer(): Enforcer | null {
    return this.booted?.enforcer ?? null;
  }
  /** Null while the kernel datapath cannot load. */
  get selected(): SelectedDatapath | null {
    return this.booted?.selected ?? null;
  }
  get restored(): RestoreResult | null {
    return this.booted?.restored ?? null;
  }
  get intake(): BundleIntake | null {
    return this.intakeRef;
  }
  get link(): Link | null {
    return this.network?.link ?? null;
  }
  /** The status API's port (0: it could not listen). */
  get statusPort(): number {
    return this.port;
  }

  /** Runs the boot sequence (until enforcing, or until it is clear nothing can be enforced), then starts the network in the background. */
  async start(): Promise<void> {
    this.state.set({ kind: 'starting' });
    this.opened = openAgentStore(this.config.storePath, this.deps.storeOptions, this.log);
    await this.boot();
    this.port = await this.startStatusApi();
    const store = this.store;
    if (!store) return;
    this.network = new AgentNetwork({
      config: this.config,
      store,
      log: this.log,
      state: this.state,
      metrics: this.metrics,
      clock: this.clock,
      signal: this.abort.signal,
      tunnel: this.deps.tunnel,
      kube: this.deps.kube,
      kernelFailing: () => this.kernelError !== null,
      enrolled: () => this.showNotEnforcing(),
      siteReady: (siteId) => {
        this.siteId = siteId;
        this.openIntake();
        // How the last update ended (this start may be its rollback or its blessing): told once.
        this.updates.reportLast();
      },
      enforcement: () => this.enforcementFacts(),
      bundle: (bytes) => this.takeBundle(bytes),
      signingKeys: (msg) => this.takeKeys(store, msg),
      update: (msg) => this.updates.take(msg),
      inventory: (snap) => {
        if (this.booted) this.booted.enforcer.setInventory(snap);
        else this.heldInventory = snap;
      },
      remotePeers: (siteId, peers) => this.booted?.enforcer.setRemote(siteId, peers),
    });
    void this.network.start().catch((e: unknown) => this.log.error({ err: formatError(e) }, 'network start failed; enforcement continues'));
  }

  /** Datapath -> enforcer -> last-known-good -> enforcing; on a kernel datapath that cannot load: not enforcing, and a retry. */
  private async boot(): Promise<void> {
    let booted: Booted;
    try {
      booted = await bootEnforcement({
        choice: this.config.datapath,
        selected: this.deps.datapath,
        loadKernel:
          this.deps.loadKernel ?? libbpfLoader({ pinRoot: this.config.pinRoot, fqdnMinTtl: this.config.fqdnMinTtlS, fqdnGrace: this.config.fqdnGraceS }),
        store: this.store,
        log: this.log,
        metrics: this.metrics,
        compile: this.deps.compile ?? compile,
        resolveVeth: this.deps.resolveVeth ?? podVethResolver(),
        nodeName: this.config.nodeName,
        debounceMs: this.config.debounceMs,
        onApplied: (a) => {
          this.fqdnKeeper?.know(a.tables.fqdn ?? []);
          this.persistInventory(a.snapshot);
        },
      });
    } catch (e) {
      if (!(e instanceof AgentError)) throw e;
      this.notEnforcing(e);
      return;
    }
    if (this.stopped) {
      await booted.enforcer.close();
      await booted.selected.datapath.close();
      return;
    }
    const recovered = this.kernelError !== null;
    if (recovered) this.log.info({ was: this.kernelError?.code }, 'kernel datapath loaded; enforcing from now on');
    this.kernelError = null;
    this.booted = booted;
    this.metrics.kernelEnforcing.set(booted.selected.kind === 'libbpf' ? 1 : 0);
    if (this.heldInventory) booted.enforcer.setInventory(this.heldInventory);
    if (booted.restored.kind !== 'none') this.markEnforcing();
    else if (this.store) this.log.info('no policy bundle yet: the datapath allows all until the first bundle arrives');
    if (!this.store) this.showStoreUnavailable();
    else if (recovered && booted.restored.kind === 'none') this.showWaiting();
    this.startPump(booted);
    this.startFqdnKeeper(booted);
    this.openIntake();
  }

  /** Learned FQDN addresses: back from the store into the kernel map, then copied to the store as they change. */
  private startFqdnKeeper(booted: Booted): void {
    const dp = booted.selected.datapath;
    if (!this.store || !hasLearnedMap(dp)) return;
    const keeper = new FqdnKeeper({ map: dp, store: this.store, log: this.log, syncMs: this.config.fqdnSyncS * 1000 });
    keeper.know(booted.enforcer.tables?.fqdn ?? []);
    try {
      keeper.restore();
    } catch (e) {
      this.log.warn({ err: formatError(e) }, 'fqdn: could not restore learned addresses from the store');
    }
    keeper.start();
    this.fqdnKeeper = keeper;
  }

  /** Says it on the state line and the log, and tries the kernel datapath again later. */
  private notEnforcing(e: AgentError): void {
    if (this.kernelError?.message !== e.message)
      this.log.error({ code: e.code, err: e.message, fix: e.hint }, 'NOT ENFORCING: the kernel datapath cannot load; retrying');
    this.kernelError = e;
    this.metrics.kernelEnforcing.set(0);
    this.showNotEnforcing();
    if (this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.boot().catch((err: unknown) => this.log.error({ err: formatError(err) }, 'datapath retry failed'));
    }, this.deps.datapathRetryMs ?? DATAPATH_RETRY_MS);
    this.retryTimer.unref();
  }

  /** After a late datapath load with nothing to enforce yet: what the network start would have said. */
  private showWaiting(): void {
    if (this.siteId) this.state.set({ kind: 'enrolled', siteId: this.siteId });
    else if (!this.store?.identity.enrollment() && !existsSync(this.config.provisionFile))
      this.state.set({ kind: 'not-provisioned', provisionFile: this.config.provisionFile });
    // Otherwise enrollment is under way and its next attempt sets the line.
  }

  private showNotEnforcing(): void {
    const e = this.kernelError;
    if (e) this.state.set({ kind: 'not-enforcing', code: e.code, error: e.message, fix: e.hint });
  }

  /** Why packets are not filtered in the kernel; null when the libbpf datapath is loaded. */
  private notEnforcingReason(): (NotEnforcing & { fix?: string }) | null {
    if (this.kernelError) return { code: this.kernelError.code, reason: this.kernelError.message, fix: this.kernelError.hint };
    if (this.booted?.selected.kind === 'memory') return MEMORY_NOT_ENFORCING;
    if (!this.booted) return { code: 'DATAPATH_NOT_LOADED', reason: 'the datapath is not loaded yet' };
    return null;
  }

  private startPump(booted: Booted): void {
    this.pump = new VerdictPump({
      datapath: booted.selected.datapath,
      tables: () => booted.enforcer.tables,
      metrics: this.metrics,
      remoteSiteOf: (ip) => this.network?.mesh?.siteOf(ip) ?? null,
      emitBatch: (verdicts) =>
        this.queue(topics.events, encode('events', { v: 1, seq: 0, at: new Date(this.clock.now()).toISOString(), type: 'verdicts', verdicts }), 'low'),
    });
    this.pump.subscribe((r) => {
      this.recent.push(r);
      if (this.recent.length > RECENT_FLOWS) this.recent.splice(0, this.recent.length - RECENT_FLOWS);
    });
    this.pump.start();
  }

  private markEnforcing(): void {
    if (this.enforcingSince !== null || !this.booted) return;
    this.enforcingSince = this.clock.now();
    this.timeToEnforcingS = this.clock.uptimeS();
    this.metrics.timeToEnforcing.set(this.timeToEnforcingS);
    this.metrics.enforcing.set(1);
    this.log.info(
      {
        generation: this.booted.enforcer.appliedGeneration,
        restored: this.booted.restored.kind,
        timeToEnforcingMs: Math.round(this.timeToEnforcingS * 1000),
        datapath: this.booted.selected.kind,
      },
      'enforcing',
    );
    this.showEnforcing();
  }

  private showEnforcing(): void {
    if (!this.store) return this.showStoreUnavailable();
    if (!this.booted) return this.showNotEnforcing();
    const siteId = this.store.identity.enrollment()?.siteId;
    this.state.set({
      kind: 'enforcing',
      generation: this.booted.enforcer.appliedGeneration,
      siteId,
      offline: this.link !== null && this.link.state.state !== 'connected',
    });
  }

  /** Says plainly that nothing comes from the store (and why), instead of staying at `starting`. */
  private showStoreUnavailable(): void {
    const restored = this.booted?.restored;
    const pinned = restored?.kind === 'pinned-only' ? restored.generation : undefined;
    this.state.set({ kind: 'store-unavailable', path: this.config.storePath, error: this.opened.unavailable ?? 'unknown error', pinnedGeneration: pinned });
  }

  private async startStatusApi(): Promise<number> {
    this.statusApi = new StatusApi({
      host: this.config.statusHost,
      port: this.config.statusPort,
      status: () => this.status(),
      registry: this.metrics.registry,
      recentFlows: () => this.recent,
      subscribeFlows: (fn) => this.pump?.subscribe(fn) ?? (() => undefined),
    });
    try {
      const port = await this.statusApi.start();
      try {
        writeFileSync(join(this.config.dataDir, 'status-port'), `${port}\n`);
      } catch {
        // Read-only data dir: the CLI falls back to the configured port.
      }
      return port;
    } catch (e) {
      this.log.error({ err: errorMessage(e), port: this.config.statusPort }, 'status API could not listen; enforcement continues');
      this.statusApi = null;
      return 0;
    }
  }

  /** What the heartbeat tells the hub about enforcement. */
  private enforcementFacts(): EnforcementFacts {
    const enforcer = this.enforcer;
    return {
      enforcing: this.enforcingSince !== null,
      appliedGeneration: enforcer?.appliedGeneration ?? 0,
      notEnforcing: strip(this.notEnforcingReason()),
      storeWritable: this.store?.writable ?? null,
      podsAttached: enforcer?.attached.length ?? 0,
    };
  }

  /** The bundle intake exists once both the enforcer (boot) and the site (enrollment) do. */
  private openIntake(): void {
    const store = this.store;
    if (this.intakeRef || !this.booted || !this.siteId || !store) return;
    this.intakeRef = new BundleIntake({
      store,
      enforcer: this.booted.enforcer,
      siteId: this.siteId,
      log: this.log,
      metrics: this.metrics,
      clock: () => this.clock.now(),
      sendAck: (ack: AckMessage) => this.queue(topics.ack, encode('ack', ack), 'high'),
    });
    const held = this.heldBundle;
    this.heldBundle = null;
    if (held) void this.takeBundle(held).catch((e: unknown) => this.log.error({ err: formatError(e) }, 'held bundle failed'));
  }

  /** A bundle from the hub: taken in, or held (the newest only, not acked) while nothing can enforce it. */
  private async takeBundle(bytes: Buffer): Promise<void> {
    const intake = this.intakeRef;
    if (!intake) {
      this.heldBundle = bytes;
      this.log.warn('bundle held: the kernel datapath is not loaded, it is taken in once it is');
      return;
    }
    const out = await intake.receive(bytes);
    if (out.result === 'applied') this.markEnforcing();
    if (out.result !== 'duplicate' && this.enforcingSince !== null) this.showEnforcing();
  }

  /** Only a signed, newer key set changes trust (bundle-intake.ts); a bundle that waited for its key is retried. */
  private async takeKeys(store: AgentStore, msg: SigningKeysMessage): Promise<void> {
    const intake = this.intakeRef;
    if (!intake) {
      acceptKeySet({ store, log: this.log, metrics: this.metrics }, msg);
      return;
    }
    const out = await intake.acceptKeys(msg);
    const retried = out.result === 'updated' ? out.retried : null;
    if (retried?.result === 'applied') this.markEnforcing();
    if (retried && retried.result !== 'duplicate' && this.enforcingSince !== null) this.showEnforcing();
  }

  /** Appends to the outbox and wakes the link. A full or read-only store is logged and counted. */
  private queue(topic: (siteId: string, node?: string) => string, payload: Buffer, priority: 'high' | 'low'): void {
    const store = this.store;
    const enrollment = store?.identity.enrollment();
    const siteId = enrollment?.siteId;
    if (!store || !siteId) return;
    try {
      // A node's acks and events go under its own node topics: the hub counts every node's ack.
      store.outbox.append(topic(siteId, enrollment?.node), payload, priority);
      this.metrics.outboxDepth.set(store.outbox.depth());
      this.link?.kick();
    } catch (e) {
      const code = errorCode(e) ?? 'STORE_IO';
      this.metrics.storeWriteFailures.inc({ code });
      this.log.error({ code, topic: topic(siteId), err: errorMessage(e) }, 'outbox write failed');
    }
  }

  private persistInventory(snapshot: KubeSnapshot): void {
    if (snapshot === EMPTY_SNAPSHOT || !this.store?.writable) return;
    try {
      this.store.config.set(INVENTORY_KEY, snapshot as unknown as JsonValue);
    } catch (e) {
      this.metrics.storeWriteFailures.inc({ code: errorCode(e) ?? 'STORE_IO' });
    }
  }

  async status(): Promise<AgentStatus> {
    const store = this.store;
    const enforcer = this.enforcer;
    const enrollment = store?.identity.enrollment() ?? null;
    const rej = this.intakeRef?.lastRejection ?? (store ? lastRejectionFromStore(store) : null);
    const iso = (t: number | null | undefined) => (t ? new Date(t).toISOString() : null);
    let outbox: AgentStatus['outbox'] = null;
    try {
      outbox = store ? { depth: store.outbox.depth(), lostRecords: store.outbox.lost().records } : null;
    } catch {
      outbox = null;
    }
    const kubeStatus = this.network?.kube?.status();
    const notEnforcing = this.notEnforcingReason();
    return {
      version: AGENT_VERSION,
      state: this.state.line,
      enrolled: enrollment !== null,
      siteId: enrollment?.siteId ?? null,
      ...(enrollment?.node !== undefined ? { node: enrollment.node, siteNodes: this.link?.siblings() ?? [] } : {}),
      enforcing: this.enforcingSince !== null,
      datapath: {
        kind: this.selected?.kind ?? null,
        kernelEnforcing: notEnforcing === null,
        notEnforcing,
        appliedGeneration: enforcer?.appliedGeneration ?? 0,
        appliedAt: iso(enforcer?.lastAppliedAt ?? store?.bundles.lastApplied()?.appliedAt),
        enforcingSince: iso(this.enforcingSince),
        timeToEnforcingS: this.timeToEnforcingS,
      },
      hub: { link: this.link?.state ?? null, clockSkewMs: store?.config.get<number>('hubClockSkewMs') ?? null },
      tunnel: this.deps.tunnel ? await this.deps.tunnel.status().catch(() => ({ up: false, handshakeAgeS: null })) : null,
      lastRejection: rej ? { ...rej, at: iso(rej.at) ?? '' } : null,
      outbox,
      pods: { attached: enforcer?.attached.length ?? 0, names: enforcer?.attached.map((e) => e.pod) ?? [] },
      store: store ? { path: store.path, writable: store.writable, opened: store.opened.kind, lastError: this.opened.error } : null,
      kube: kubeStatus ? { synced: kubeStatus.synced, lastError: kubeStatus.lastError?.message ?? null } : null,
      mesh: this.network?.mesh ? this.network.mesh.status() : null,
    };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.network?.stop();
    await this.pump?.stop();
    await this.statusApi?.stop();
    await this.booted?.enforcer.close();
    this.fqdnKeeper?.stop();
    try {
      this.fqdnKeeper?.sync();
    } catch (e) {
      this.log.warn({ err: formatError(e) }, 'fqdn: last copy of the learned addresses failed');
    }
    await this.deps.tunnel?.down().catch(() => undefined);
    // The datapath is closed, not unpinned: the kernel keeps enforcing while the agent is away.
    await this.booted?.selected.datapath.close();
    this.store?.close();
  }
}

/** The hub is told the code and the reason; the fix is for the technician at the appliance. */
function strip(n: (NotEnforcing & { fix?: string }) | null): NotEnforcing | null {
  return n ? { code: n.code, reason: n.reason } : null;
}

function lastRejectionFromStore(store: AgentStore): { generation: number; code: string; reason: string; at: number } | null {
  const r = store.bundles.lastRejected();
  return r ? { generation: r.generation ?? 0, code: r.rejectCode ?? 'UNKNOWN', reason: r.rejectReason ?? '', at: r.receivedAt } : null;
}

/** Starts the agent; throws only for configuration errors, never for a missing network. */
export async function runAgent(config: AgentConfig, deps: RunDeps): Promise<Agent> {
  const agent = new Agent(config, deps);
  await agent.start();
  return agent;
}
