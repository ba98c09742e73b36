// Prometheus metrics of the agent, on its own registry (served at /metrics on 127.0.0.1).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface AgentMetrics {
  registry: Registry;
  appliedGeneration: Gauge;
  applyLatency: Histogram;
  /** Seconds from process start to enforcing, set once per start. */
  timeToEnforcing: Gauge;
  enforcing: Gauge;
  kernelEnforcing: Gauge;
  bundlesRejected: Counter<'code'>;
  drops: Counter<'policy'>;
  verdicts: Counter<'verdict'>;
  outboxDepth: Gauge;
  outboxLost: Gauge;
  linkState: Gauge<'state'>;
  linkReconnects: Counter;
  podsAttached: Gauge;
  storeWriteFailures: Counter<'code'>;
  /** 1 for each linked site's current path (direct, relayed, down). */
  meshPathState: Gauge<'peer' | 'state'>;
  meshHandshakeAge: Gauge<'peer'>;
  /** Sets a linked site's path gauge. */
  meshPath(peer: string, state: string): void;
}

export const MESH_PATH_STATES = ['direct', 'relayed', 'down'] as const;

export const LINK_STATES = ['disabled', 'connecting', 'connected', 'offline'] as const;
export type LinkState = (typeof LINK_STATES)[number];

export function createMetrics(opts: { defaults?: boolean } = {}): AgentMetrics {
  const registry = new Registry();
  if (opts.defaults ?? true) collectDefaultMetrics({ register: registry, prefix: 'weft_agent_' });
  const registers = [registry];
  const meshPathState = new Gauge({
    name: 'weft_agent_mesh_path',
    help: '1 for the path each linked site is reached by now (direct, relayed through the hub, down)',
    labelNames: ['peer', 'state'],
    registers,
  });
  return {
    meshPathState,
    meshHandshakeAge: new Gauge({
      name: 'weft_agent_mesh_handshake_age_seconds',
      help: 'Seconds since the last WireGuard handshake on the direct path to a linked site',
      labelNames: ['peer'],
      registers,
    }),
    meshPath(peer: string, state: string) {
      for (const s of MESH_PATH_STATES) meshPathState.set({ peer, state: s }, s === state ? 1 : 0);
    },
    registry,
    appliedGeneration: new Gauge({ name: 'weft_agent_applied_generation', help: 'Bundle generation live in the datapath', registers }),
    applyLatency: new Histogram({
      name: 'weft_agent_apply_seconds',
      help: 'Compile-to-live latency of a datapath apply',
      registers,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    }),
    timeToEnforcing: new Gauge({ name: 'weft_agent_time_to_enforcing_seconds', help: 'Seconds from process start to enforcing', registers }),
    enforcing: new Gauge({ name: 'weft_agent_enforcing', help: '1 when the datapath enforces a policy generation', registers }),
    kernelEnforcing: new Gauge({
      name: 'weft_agent_kernel_enforcing',
      help: '1 when the kernel (libbpf) datapath is loaded; 0 while it cannot load (nothing is filtered) or with the in-memory one',
      registers,
    }),
    bundlesRejected: new Counter({ name: 'weft_agent_bundles_rejected_total', help: 'Bundles rejected, by error code', labelNames: ['code'], registers }),
    drops: new Counter({
      name: 'weft_agent_drops_total',
      help: 'Denied flows reported by the datapath, by deciding policy',
      labelNames: ['policy'],
      registers,
    }),
    verdicts: new Counter({ name: 'weft_agent_verdict_events_total', help: 'Verdict events read from the datapath', labelNames: ['verdict'], registers }),
    outboxDepth: new Gauge({ name: 'weft_agent_outbox_depth', help: 'Records waiting in the outbox', registers }),
    outboxLost: new Gauge({ name: 'weft_agent_outbox_lost_records', help: 'Low-priority outbox records dropped at the cap (persisted total)', registers }),
    linkState: new Gauge({ name: 'weft_agent_link_state', help: '1 for the current hub link state', labelNames: ['state'], registers }),
    linkReconnects: new Counter({ name: 'weft_agent_link_reconnects_total', help: 'MQTT reconnect attempts', registers }),
    podsAttached: new Gauge({ name: 'weft_agent_pods_attached', help: 'Local pods whose veth carries the datapath', registers }),
    storeWriteFailures: new Counter({
      name: 'weft_agent_store_write_failures_total',
      help: 'Store writes that failed (disk full, read-only)',
      labelNames: ['code'],
      registers,
    }),
  };
}

export function setLinkState(m: AgentMetrics, state: LinkState): void {
  for (const s of LINK_STATES) m.linkState.set({ state: s }, s === state ? 1 : 0);
}
