// Feeds the health model from MQTT: status (retained; the last will) and heartbeat topics of every
// site, read with one of the hub's own clients, plus the broker's session events. Malformed payloads
// are counted and ignored. Subscribing replays retained statuses: that is the warm start after a
// hub restart.
import type { EventEmitter } from 'node:events';
import type { IPublishPacket, MqttClient } from 'mqtt';
import { pino, type Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { decode, ProtocolError, parseSiteTopic, topics } from '../../protocol/index.ts';
import type { HealthInput, HealthModel, SiteHealth, SiteHealthEvent } from './types.ts';

export interface HealthMonitorOptions {
  /** A connected hub client (broker.hubClient()); the monitor subscribes with it. */
  client: MqttClient;
  health: HealthModel;
  /** broker.sessions: 'down' (siteId, node?) takes a site (or one node of it) offline at once (embedded broker only). */
  sessions?: EventEmitter;
  /** Sites the store knows (not revoked); messages of others are ignored. Default: all. */
  knownSite?: (siteId: string) => boolean;
  now?: () => number;
  /** How often staleness is checked. Default heartbeatInterval / 5, at most 1 s. */
  tickMs?: number;
  registry?: Registry;
  logger?: Logger;
}

export interface HealthMonitor {
  /** Malformed status/heartbeat payloads seen, by topic kind and error code. */
  readonly malformed: Counter<'kind' | 'code'>;
  close(): Promise<void>;
}

const STATES: SiteHealth[] = ['online', 'degraded', 'draining', 'offline'];

export async function startHealthMonitor(opts: HealthMonitorOptions): Promise<HealthMonitor> {
  const { client, health } = opts;
  const now = opts.now ?? Date.now;
  const log = opts.logger ?? pino({ level: 'silent' });
  const known = opts.knownSite ?? (() => true);
  const registers = opts.registry ? [opts.registry] : [];
  const malformed = new Counter({
    name: 'weft_health_malformed_messages_total',
    help: 'Malformed status/heartbeat payloads from sites, ignored',
    labelNames: ['kind', 'code'],
    registers,
  });
  const transitions = new Counter({ name: 'weft_health_transitions_total', help: 'Site health changes by target state', labelNames: ['to'], registers });
  // Registered for its collect(): counts are read from the model at scrape time.
  new Gauge({
    name: 'weft_health_sites',
    help: 'Sites by health state',
    labelNames: ['health'],
    registers,
    collect() {
      const counts = new Map<SiteHealth, number>(STATES.map((s) => [s, 0]));
      for (const s of health.list()) counts.set(s.health, (counts.get(s.health) ?? 0) + 1);
      for (const [h, n] of counts) this.set({ health: h }, n);
    },
  });

  new Gauge({
    name: 'weft_health_nodes',
    help: 'Nodes of multi-node sites by health state (each node its own state machine; the site aggregates them)',
    labelNames: ['health'],
    registers,
    collect() {
      const counts = new Map<SiteHealth, number>(STATES.map((s) => [s, 0]));
      for (const s of health.list()) for (const n of s.nodes ?? []) counts.set(n.health, (counts.get(n.health) ?? 0) + 1);
      for (const [h, n] of counts) this.set({ health: h }, n);
    },
  });

  new Gauge({
    name: 'weft_health_sites_not_enforcing',
    help: 'Sites whose latest heartbeat says they cannot enforce policy in the kernel (nothing is filtered there)',
    registers,
    collect() {
      this.set(health.list().filter((s) => s.kernelEnforcing === false).length);
    },
  });

  const onEvent = (e: SiteHealthEvent) => {
    transitions.inc({ to: e.to });
    log.info({ siteId: e.siteId, from: e.from, to: e.to, reason: e.reason }, 'site health changed');
  };
  health.on('event', onEvent);

  const onMessage = (topic: string, payload: Buffer, packet: IPublishPacket) => {
    const t = parseSiteTopic(topic);
    if (!t || !known(t.siteId)) return;
    // An empty retained payload is the hub clearing a status (site revoked), not a site speaking.
    if (payload.length === 0) return;
    try {
      // A node of a multi-node site steps its own state machine; the site is the aggregate of its nodes.
      const node = t.node;
      const apply = (input: HealthInput) => (node === undefined ? health.apply(t.siteId, input) : health.applyNode(t.siteId, node, input));
      if (t.kind === 'status') {
        const msg = decode('status', payload);
        apply({ type: 'status', state: msg.state, retained: packet.retain, at: now(), agentVersion: msg.agentVersion });
      } else if (t.kind === 'heartbeat') {
        apply({ type: 'heartbeat', heartbeat: decode('heartbeat', payload), at: now() });
      }
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      malformed.inc({ kind: t.kind, code: err.code });
      log.debug({ siteId: t.siteId, kind: t.kind, code: err.code, err: err.message }, 'malformed message ignored');
    }
  };
  client.on('message', onMessage);
  const filters = [topics.allSites('status'), topics.allSites('heartbeat'), topics.allNodes('status'), topics.allNodes('heartbeat')];
  await client.subscribeAsync({ [filters[0]]: { qos: 1 }, [filters[1]]: { qos: 0 }, [filters[2]]: { qos: 1 }, [filters[3]]: { qos: 0 } });

  const onDown = (siteId: string, node?: string) => {
    if (!known(siteId)) return;
    if (node === undefined) health.apply(siteId, { type: 'session-down', at: now() });
    else health.applyNode(siteId, node, { type: 'session-down', at: now() });
  };
  opts.sessions?.on('down', onDown);

  const tickMs = opts.tickMs ?? Math.min(1000, health.config.heartbeatIntervalMs / 5);
  const timer = setInterval(() => health.tick(now()), tickMs);
  timer.unref();

  return {
    malformed,
    async close() {
      clearInterval(timer);
      opts.sessions?.off('down', onDown);
      health.off('event', onEvent);
      client.off('message', onMessage);
      if (client.connected) await client.unsubscribeAsync(filters).catch(() => undefined);
    },
  };
}
