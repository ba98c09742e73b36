// `weft-agent run`: the start sequence. Its promise is the order:
//   open store -> datapath -> last-known-good verified and adopted or applied -> ENFORCING
//   -> only then the network: enrollment (first boot), tunnel, MQTT link, k3s inventory.
// Nothing after "enforcing" can take enforcement away: every network part fails on its own.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStore, type AgentStore, type JsonValue, type OpenStoreOptions } from '../offline-store/index.ts';
import { compile } from '../policy/index.ts';
import { encode, topics, type AckMessage, type VerdictRecord } from '../protocol/index.ts';
import { BundleIntake } from './bundle-intake.ts';
import type { AgentConfig } from './config.ts';
import { selectDatapath, type SelectedDatapath } from './datapath-select.ts';
import { enroll } from './enroll.ts';
import { heartbeatBody } from './heartbeat.ts';
import { Enforcer, EMPTY_SNAPSHOT, type CompileFn } from './enforcer.ts';
import { formatAgentError } from './errors.ts';
import type { KubeInventory, KubeSnapshot } from './kube/types.ts';
import { Link } from './link.ts';
import type { Logger } from './logger.ts';
import { createMetrics, type AgentMetrics } from './metrics.ts';
import { restoreLastKnownGood, type RestoreResult } from './restore.ts';
import { StateLine } from './state-line.ts';
import { StatusApi } from './status-api.ts';
import type { AgentStatus, TunnelStatus } from './status-types.ts';
import { podVethResolver, type VethResolver } from './veth.ts';
import { VerdictPump } from './verdicts.ts';
import { AGENT_VERSION } from './version.ts';
import type { Enrollment, DeviceIdentity } from '../offline-store/index.ts';

/** The tunnel is optional and injected: the agent enforces and reports without it (e.g. a broker on the LAN). */
export interface TunnelComponent {
  up(enrollment: Enrollment, identity: DeviceIdentity): Promise<void>;
  status(): Promise<TunnelStatus>;
  down(): Promise<void>;
}

export interface RunDeps {
  log: Logger;
  /** Tests inject a datapath; otherwise selectDatapath(config.datapath). */
  datapath?: SelectedDatapath;
  tunnel?: TunnelComponent;
  /** Creates the k3s inventory source (kube-source.ts picks it from the config); absent: no k3s. */
  kube?: () => KubeInventory;
  resolveVeth?: VethResolver;
  compile?: CompileFn;
  metrics?: AgentMetrics;
  /** Extra store options (tests: readonly, maxPageCount to simulate a full disk). */
  storeOptions?: OpenStoreOptions;
}

const INVENTORY_KEY = 'inventory';
const RECENT_FLOWS = 1000;

export class Agent {
  readonly metrics: AgentMetrics;
  readonly state: StateLine;
  store: AgentStore | null = null;
  storeError: string | null = null;
  /** Why the store could not be opened at all, even read-only (null: it is open). */
  storeUnavailable: string | null = null;
  enforcer!: Enforcer;
  selected!: SelectedDatapath;
  link: Link | null = null;
  intake: BundleIntake | null = null;
  kube: KubeInventory | null = null;
  statusApi: StatusApi | null = null;
  statusPort = 0;
  restored: RestoreResult | null = null;
  enforcingSince: number | null = null;
  timeToEnforcingS: number | null = null;
  private pump: VerdictPump | null = null;
  private lastTunnel: TunnelStatus = { up: false, handshakeAgeS: null };
  private readonly recent: VerdictRecord[] = [];
  private readonly abort = new AbortController();
  private stopped = false;

  constructor(
    readonly config: AgentConfig,
    private readonly deps: RunDeps,
  ) {
    this.metrics = deps.metrics ?? createMetrics();
    this.state = new StateLine(config.stateFile, (line) => deps.log.info({ state: line }, 'state'), config.console);
  }

  private get log(): Logger {
    return this.deps.log;
  }

  /** Runs until enforcing (or until it is clear nothing can be enforced), then starts the network in the background. */
  async start(): Promise<void> {
    const c = this.config;
    this.state.set({ kind: 'starting' });
    this.openStore();
    this.selected = this.deps.datapath ?? (await selectDatapath(c.datapath, { pinRoot: c.pinRoot, log: this.log }));
    this.enforcer = new Enforcer({
      datapath: this.selected.datapath,
      compile: this.deps.compile ?? compile,
      resolveVeth: this.deps.resolveVeth ?? podVethResolver(),
      log: this.log,
      metrics: this.metrics,
      nodeName: c.nodeName,
      debounceMs: c.debounceMs,
      onApplied: (a) => this.persistInventory(a.snapshot),
    });
    const saved = this.store?.config.get<JsonValue>(INVENTORY_KEY);
    if (saved) this.enforcer.seedInventory(saved as unknown as KubeSnapshot);

    const kernelGeneration = await this.selected.datapath.appliedGeneration();
    this.restored = await restoreLastKnownGood(this.store, this.enforcer, kernelGeneration, this.log);
    if (this.restored.kind !== 'none') this.markEnforcing();
    else if (this.store) this.log.info('no policy bundle yet: the datapath allows all until the first bundle arrives');
    if (!this.store) this.showStoreUnavailable();

    this.statusPort = await this.startStatusApi();
    this.pump = new VerdictPump({
      datapath: this.selected.datapath,
      tables: () => this.enforcer.tables,
      metrics: this.metrics,
      emitBatch: (verdicts) => this.queue(topics.events, encode('events', { v: 1, seq: 0, at: new Date().toISOString(), type: 'verdicts', verdicts }), 'low'),
    });
    this.pump.subscribe((r) => {
      this.recent.push(r);
      if (this.recent.length > RECENT_FLOWS) this.recent.splice(0, this.recent.length - RECENT_FLOWS);
    });
    this.pump.start();
    void this.startNetwork().catch((e: unknown) => this.log.error({ err: formatAgentError(e) }, 'network start failed; enforcement continues'));
  }

  private openStore(): void {
    const c = this.config;
    const onEvent = (e: { type: string }) => this.log.warn({ event: e }, 'store event');
    try {
      this.store = openStore(c.storePath, { onEvent, ...this.deps.storeOptions });
      if (this.store.opened.kind === 'recovered')
        this.log.error({ opened: this.store.opened }, 'store was corrupt and was moved aside; enforcing from the pinned kernel state');
    } catch (e) {
      this.storeError = formatAgentError(e);
      this.log.error({ err: this.storeError, path: c.storePath }, 'cannot open the store read-write; trying read-only');
      try {
        this.store = openStore(c.storePath, { readonly: true, onEvent });
      } catch (e2) {
        this.log.error({ err: formatAgentError(e2) }, 'store unavailable; enforcing from the pinned kernel state only');
        this.storeUnavailable = oneLine(e);
      }
    }
  }

  private markEnforcing(): void {
    if (this.enforcingSince !== null) return;
    this.enforcingSince = Date.now();
    this.timeToEnforcingS = process.uptime();
    this.metrics.timeToEnforcing.set(this.timeToEnforcingS);
    this.metrics.enforcing.set(1);
    this.log.info(
      {
        generation: this.enforcer.appliedGeneration,
        restored: this.restored?.kind,
        timeToEnforcingMs: Math.round(this.timeToEnforcingS * 1000),
        datapath: this.selected.kind,
      },
      'enforcing',
    );
    this.showEnforcing();
  }

  private showEnforcing(): void {
    if (!this.store) return this.showStoreUnavailable();
    const siteId = this.store?.identity.enrollment()?.siteId;
    this.state.set({
      kind: 'enforcing',
      generation: this.enforcer.appliedGeneration,
      siteId,
      offline: this.link !== null && this.link.state.state !== 'connected',
    });
  }

  /** Says plainly that nothing comes from the store (and why), instead of staying at `starting`. */
  private showStoreUnavailable(): void {
    const pinned = this.restored?.kind === 'pinned-only' ? this.restored.generation : undefined;
    this.state.set({ kind: 'store-unavailable', path: this.config.storePath, error: this.storeUnavailable ?? 'unknown error', pinnedGeneration: pinned });
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
      this.log.error({ err: (e as Error).message, port: this.config.statusPort }, 'status API could not listen; enforcement continues');
      this.statusApi = null;
      return 0;
    }
  }

  private async startNetwork(): Promise<void> {
    const store = this.store;
    if (!store) return;
    let enrollment = store.identity.enrollment();
    if (!enrollment) {
      if (!existsSync(this.config.provisionFile)) {
        this.state.set({ kind: 'not-provisioned', provisionFile: this.config.provisionFile });
        return;
      }
      enrollment = await enroll({
        store,
        provisionFile: this.config.provisionFile,
        log: this.log,
        state: this.state,
        attempts: Infinity,
        retryPermanent: true,
        signal: this.abort.signal,
      }).catch((e: unknown) => {
        this.log.error({ err: formatAgentError(e) }, 'enrollment stopped');
        return null;
      });
      if (!enrollment || this.stopped) return;
    }
    const identity = store.identity.get();
    if (this.deps.tunnel && identity) {
      await this.deps.tunnel
        .up(enrollment, identity)
        .catch((e: unknown) => this.log.error({ err: formatAgentError(e) }, 'tunnel failed to come up; retried by the tunnel supervisor'));
      this.lastTunnel = await this.deps.tunnel.status().catch(() => this.lastTunnel);
    }
    this.intake = new BundleIntake({
      store,
      enforcer: this.enforcer,
      siteId: enrollment.siteId,
      log: this.log,
      metrics: this.metrics,
      sendAck: (ack: AckMessage) => this.queue(topics.ack, encode('ack', ack), 'high'),
    });
    this.link = new Link({
      siteId: enrollment.siteId,
      url: enrollment.broker.url,
      username: enrollment.broker.username,
      password: enrollment.broker.password,
      outbox: store.outbox,
      log: this.log,
      metrics: this.metrics,
      agentVersion: AGENT_VERSION,
      protocolVersion: this.config.mqttProtocol,
      heartbeatIntervalS: enrollment.heartbeatIntervalS ?? this.config.heartbeatIntervalS,
      heartbeat: () => {
        // The tunnel answers asynchronously: each heartbeat carries the answer fetched for the previous one.
        void this.deps.tunnel?.status().then(
          (t) => (this.lastTunnel = t),
          () => undefined,
        );
        return heartbeatBody({
          enforcing: this.enforcingSince !== null,
          appliedGeneration: this.enforcer.appliedGeneration,
          datapath: this.selected.kind,
          storeWritable: this.store?.writable ?? null,
          kubeSynced: this.kube ? this.kube.status().synced : null,
          tunnel: this.deps.tunnel ? this.lastTunnel : null,
          podsAttached: this.enforcer.attached.length,
        });
      },
      onBundle: async (bytes) => {
        const out = await this.intake!.receive(bytes);
        if (out.result === 'applied') this.markEnforcing();
        if (out.result !== 'duplicate') this.showEnforcingIfAny();
      },
      onSigningKeys: (msg) => {
        try {
          store.identity.updateSigningKeys(msg.keys);
          this.log.info({ keys: msg.keys.map((k) => k.keyId) }, 'hub signing keys updated');
        } catch (e) {
          this.log.error({ err: formatAgentError(e) }, 'could not store the new hub signing keys');
        }
      },
    });
    this.link.start();
    if (this.deps.kube) this.startKube(this.deps.kube);
  }

  private showEnforcingIfAny(): void {
    if (this.enforcingSince !== null) this.showEnforcing();
  }

  private startKube(make: () => KubeInventory): void {
    const kube = make();
    this.kube = kube;
    kube.on('change', (snap) => this.enforcer.setInventory(snap));
    kube.on('error', (e) => this.log.warn({ code: e.code, err: e.message }, 'k3s inventory error; retrying'));
    kube.start().then(
      (snap) => this.enforcer.setInventory(snap),
      (e: unknown) => this.log.warn({ err: formatAgentError(e) }, 'k3s not reachable yet; enforcing with the last known inventory'),
    );
  }

  /** Appends to the outbox and wakes the link. A full or read-only store is logged and counted. */
  private queue(topic: (siteId: string) => string, payload: Buffer, priority: 'high' | 'low'): void {
    const store = this.store;
    const siteId = store?.identity.enrollment()?.siteId;
    if (!store || !siteId) return;
    try {
      store.outbox.append(topic(siteId), payload, priority);
      this.metrics.outboxDepth.set(store.outbox.depth());
      this.link?.kick();
    } catch (e) {
      const code = (e as { code?: string }).code ?? 'STORE_IO';
      this.metrics.storeWriteFailures.inc({ code });
      this.log.error({ code, topic: topic(siteId), err: (e as Error).message }, 'outbox write failed');
    }
  }

  private persistInventory(snapshot: KubeSnapshot): void {
    if (snapshot === EMPTY_SNAPSHOT || !this.store?.writable) return;
    try {
      this.store.config.set(INVENTORY_KEY, snapshot as unknown as JsonValue);
    } catch (e) {
      this.metrics.storeWriteFailures.inc({ code: (e as { code?: string }).code ?? 'STORE_IO' });
    }
  }

  async status(): Promise<AgentStatus> {
    const store = this.store;
    const enrollment = store?.identity.enrollment() ?? null;
    const rej = this.intake?.lastRejection ?? (store ? lastRejectionFromStore(store) : null);
    const iso = (t: number | null | undefined) => (t ? new Date(t).toISOString() : null);
    let outbox: AgentStatus['outbox'] = null;
    try {
      outbox = store ? { depth: store.outbox.depth(), lostRecords: store.outbox.lost().records } : null;
    } catch {
      outbox = null;
    }
    const kubeStatus = this.kube?.status();
    return {
      version: AGENT_VERSION,
      state: this.state.line,
      enrolled: enrollment !== null,
      siteId: enrollment?.siteId ?? null,
      enforcing: this.enforcingSince !== null,
      datapath: {
        kind: this.selected.kind,
        fallbackReason: this.selected.fallbackReason,
        appliedGeneration: this.enforcer.appliedGeneration,
        appliedAt: iso(this.enforcer.lastAppliedAt ?? store?.bundles.lastApplied()?.appliedAt),
        enforcingSince: iso(this.enforcingSince),
        timeToEnforcingS: this.timeToEnforcingS,
      },
      hub: { link: this.link?.state ?? null, clockSkewMs: store?.config.get<number>('hubClockSkewMs') ?? null },
      tunnel: this.deps.tunnel ? await this.deps.tunnel.status().catch(() => ({ up: false, handshakeAgeS: null })) : null,
      lastRejection: rej ? { ...rej, at: iso(rej.at) ?? '' } : null,
      outbox,
      pods: { attached: this.enforcer.attached.length, names: this.enforcer.attached.map((e) => e.pod) },
      store: store ? { path: store.path, writable: store.writable, opened: store.opened.kind, lastError: this.storeError } : null,
      kube: kubeStatus ? { synced: kubeStatus.synced, lastError: kubeStatus.lastError?.message ?? null } : null,
    };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort();
    await this.kube?.stop().catch(() => undefined);
    await this.link?.stop({ graceful: true });
    await this.pump?.stop();
    await this.statusApi?.stop();
    await this.enforcer?.close();
    await this.deps.tunnel?.down().catch(() => undefined);
    // The datapath is closed, not unpinned: the kernel keeps enforcing while the agent is away.
    await this.selected?.datapath.close();
    this.store?.close();
  }
}

/** An error as one console line: `message (CODE); fix: hint`. */
function oneLine(e: unknown): string {
  const x = e as { message?: string; code?: string; hint?: string };
  return `${x.message ?? String(e)}${x.code ? ` (${x.code})` : ''}${x.hint ? `; fix: ${x.hint}` : ''}`;
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
