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

  const handle = async (topic: string, payload: Buffer): Promise<void> => {
    const t = parseSiteTopic(topic);
    if (!t) return;
    received.inc({ kind: t.kind });
    // The enrolled device's key scopes its sequence numbers: a replacement device starts again at 1.
    const device = await o.store.sites.enrolledDevice(t.siteId);
    if (device === undefined) return;
    try {
      if (t.kind === 'ack') {
        // Acks and events share the agent's outbox sequence, so the same (site, device, seq) keys dedupe both:
        // the engine writes the key with the ack in one transaction, so of all replicas one records it.
        await o.handlers.onAck(t.siteId, decode('ack', payload), device);
      } else if (t.kind === 'heartbeat') {
        await o.handlers.onAppliedGeneration(t.siteId, decode('heartbeat', payload).appliedGeneration);
      } else if (t.kind === 'events') {
        const e = decode('events', payload);
        const fresh = await o.store.telemetry.ingest(
          { siteId: t.siteId, device, seq: e.seq, type: e.type, at: e.at, verdicts: e.verdicts ?? [], counters: e.counters ?? [] },
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
  await o.client.subscribeAsync({ [topics.allSites('ack')]: { qos: 1 }, [topics.allSites('events')]: { qos: 1 }, [topics.allSites('heartbeat')]: { qos: 0 } });
  return {
    idle: () => chain,
    close: () => {
      o.client.off('message', onMessage);
    },
  };
}
