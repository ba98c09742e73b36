// What sites send the hub over MQTT, decoded with protocol/messages.ts and dispatched: acks and
// heartbeats' applied generations to the rollout engine, verdict events and counters to the store.
// A malformed payload is counted and dropped; nothing a site sends can crash the hub.
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { decode, ProtocolError, type AckMessage, parseSiteTopic, topics, type UpdateReport } from '../../protocol/index.ts';
import type { HubStore, RetentionCaps } from '../store/types.ts';

export interface IngestHandlers {
  /** `device` scopes the ack's outbox sequence (ack.seq) for dedupe. */
  onAck(siteId: string, ack: AckMessage, device: string): Promise<void>;
  onAppliedGeneration(siteId: string, generation: number): Promise<void>;
  /** How an agent update ended on a site (events of type 'update'; absent: not handled). */
  onUpdateReport?(siteId: string, report: UpdateReport): Promise<void>;
  /** A node of a multi-node site acked (its site's ack is decided from every node's: hub/rollout/node-gate.ts). */
  onNodeAck?(siteId: string, node: string, ack: AckMessage): Promise<void>;
  onNodeAppliedGeneration?(siteId: string, node: string, generation: number): Promise<void>;
}

export interface IngestOptions {
  client: MqttClient;
  store: HubStore;
  handlers: IngestHandlers;
  registry: Registry;
  log: Logger;
  now: () => number;
  retention: RetentionCaps;
  /** Prune telemetry after this many stored batches. */
  pruneEvery?: number;
}

export interface Ingest {
  /** Resolves when everything received so far was handled (tests and shutdown). */
  idle(): Promise<void>;
  close(): void;
}

export async function startIngest(o: IngestOptions): Promise<Ingest> {
  const malformed = new Counter({
    name: 'weft_hub_site_messages_malformed_total',
    help: 'Site messages dropped as malformed',
    labelNames: ['kind', 'code'],
    registers: [o.registry],
  });
  const received = new Counter({ name: 'weft_hub_site_messages_total', help: 'Site messages received', labelNames: ['kind'], registers: [o.registry] });
  const duplicates = new Counter({
    name: 'weft_hub_telemetry_duplicates_total',
    help: 'Telemetry batches dropped as already seen (site, seq)',
    registers: [o.registry],
  });
  const pruneEvery = o.pruneEvery ?? 1000;
  let stored = 0;
  let chain: Promise<void> = Promise.resolve();

  const nodeDevice = async (siteId: string, name: string): Promise<string | undefined> => {
    if ((await o.store.sites.state(siteId)) !== 'enrolled') return undefined;
    const n = await o.store.nodes.get(siteId, name);
    return n?.state === 'enrolled' ? n.identityKey : undefined;
  };

  const handle = async (topic: string, payload: Buffer): Promise<void> => {
    const t = parseSiteTopic(topic);
    if (!t) return;
    received.inc({ kind: t.kind });
    // The enrolled device's key scopes its sequence numbers: a replacement device starts again at 1.
    // A node's device is the node's own key (each node's outbox numbers from 1).
    const device = t.node === undefined ? await o.store.sites.enrolledDevice(t.siteId) : await nodeDevice(t.siteId, t.node);
    if (device === undefined) return;
    const node = t.node;
    try {
      if (t.kind === 'ack') {
        const ack = decode('ack', payload);
        if (node === undefined) {
          // Acks and events share the agent's outbox sequence, so the same (site, device, seq) keys dedupe both:
          // the engine writes the key with the ack in one transaction, so of all replicas one records it.
          await o.handlers.onAck(t.siteId, ack, device);
        } else {
          // A node's ack only feeds its site's node gate (NodeAcks, which re-evaluates idempotently): dedupe
          // it by (site, node device, seq) here; an ack without seq (an older agent) passes, as before.
          if (
            ack.seq !== undefined &&
            !(await o.store.telemetry.ingest({ siteId: t.siteId, node, device, seq: ack.seq, type: 'ack', at: ack.at, verdicts: [], counters: [] }, o.now()))
          ) {
            duplicates.inc();
            return;
          }
          await o.handlers.onNodeAck?.(t.siteId, node, ack);
        }
      } else if (t.kind === 'heartbeat') {
        const applied = decode('heartbeat', payload).appliedGeneration;
        if (node === undefined) await o.handlers.onAppliedGeneration(t.siteId, applied);
        else await o.handlers.onNodeAppliedGeneration?.(t.siteId, node, applied);
      } else if (t.kind === 'events') {
        const e = decode('events', payload);
        const fresh = await o.store.telemetry.ingest(
          { siteId: t.siteId, node, device, seq: e.seq, type: e.type, at: e.at, verdicts: e.verdicts ?? [], counters: e.counters ?? [] },
          o.now(),
        );
        if (!fresh) duplicates.inc();
        else {
          if (e.type === 'update' && e.update) await o.handlers.onUpdateReport?.(t.siteId, e.update);
          if (++stored % pruneEvery === 0) await o.store.telemetry.prune(o.retention, o.now());
        }
      }
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      malformed.inc({ kind: t.kind, code: err.code });
      o.log.debug({ site: t.siteId, kind: t.kind, code: err.code, err: err.message }, 'malformed site message dropped');
    }
  };

  const onMessage = (topic: string, payload: Buffer): void => {
    // In order, one at a time: acks of one site must not overtake each other.
    chain = chain.then(() => handle(topic, payload)).catch((err: unknown) => o.log.error({ err, topic }, 'site message handling failed'));
  };
  o.client.on('message', onMessage);
  await o.client.subscribeAsync({
    [topics.allSites('ack')]: { qos: 1 },
    [topics.allSites('events')]: { qos: 1 },
    [topics.allSites('heartbeat')]: { qos: 0 },
    [topics.allNodes('ack')]: { qos: 1 },
    [topics.allNodes('events')]: { qos: 1 },
    [topics.allNodes('heartbeat')]: { qos: 0 },
  });
  return {
    idle: () => chain,
    close: () => {
      o.client.off('message', onMessage);
    },
  };
}
