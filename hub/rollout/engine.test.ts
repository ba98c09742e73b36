// The engine as the I/O around nextStep, with a real SQLite store and a fake broker (no MQTT): what
// it publishes (once per process, a failed publish again on the next tick), what it writes (progress
// with its audit entry), and how acks reach it (a repeated or stale ack counts once or not at all).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { SigningKeys } from '../pki/signing-keys.ts';
import { openHubStore } from '../store/sqlite-store.ts';
import { eventually } from '../testing/sim-agent.ts';
import { BundleService, type Publisher } from './bundles.ts';
import { RolloutEngine } from './engine.ts';

const dir = mkdtempSync(join(tmpdir(), 'weft-rollout-engine-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A broker that records what it was asked to publish and refuses the topics listed in `down`. */
class FakeBroker implements Publisher {
  readonly sent: { siteId: string; generation: number }[] = [];
  readonly down = new Set<string>();
  async publish(topic: string, payload: Buffer): Promise<void> {
    if (this.down.has(topic)) throw new Error('broker closing');
    // The hub signs a stage once (format 2): each site's id and generation sit beside the shared payload.
    const { siteId, generation } = (JSON.parse(payload.toString('utf8')) as { site: { siteId: string; generation: number } }).site;
    this.sent.push({ siteId, generation });
  }
}

describe('rollout engine', () => {
  it('publishes each bundle once, retries a failed one, writes each stage with its audit entry, and counts repeated or stale acks once', async () => {
    const store = openHubStore(join(dir, 'hub.db'));
    const now = () => 1_000;
    const keys = new SigningKeys(store.keys, join(dir, 'keys'), { activationDelayMs: 0, overlapMs: 0 });
    await keys.ensure(now());
    const broker = new FakeBroker();
    const engine = new RolloutEngine(store, new BundleService(store, keys, broker, now), now, pino({ level: 'silent' }));
    try {
      for (const id of ['s1', 's2', 's3']) {
        await store.sites.create(id, { name: id, labels: { kind: 'store' }, lat: 0, lon: 0, clientCidrs: [], capacity: 1, services: [] }, 0);
        await store.sites.update(id, { state: 'enrolled', enrolledAt: 0 });
      }
      const version = await store.policies.add({ yaml: '', objects: [], author: 'ops', message: 'm', createdAt: 0 });
      broker.down.add('weft/v1/site/s2/bundle');
      const ack = (siteId: string, generation: number, result: 'applied' | 'rejected' = 'applied') =>
        engine.onAck(siteId, { v: 1, generation, result, at: '2026-01-01T00:00:00Z' });

      const r = await engine.create(
        { policyVersion: version, selector: { matchLabels: {} }, stages: [{ name: 'canary', sites: ['s1'] }], auditWindowS: 0 },
        'ops',
      );
      expect(broker.sent).toEqual([{ siteId: 's1', generation: 1 }]);

      // The canary acks twice, then "rejects" the same generation late: one ack counts, the stage passes.
      await ack('s1', 1);
      await ack('s1', 1);
      await ack('s1', 1, 'rejected');
      await eventually(async () => (await store.rollouts.get(r.id))!.stage === 1, 'the canary stage to pass');
      await eventually(() => broker.sent.length === 2, 'the last stage published');
      expect(broker.sent).toEqual([
        { siteId: 's1', generation: 1 },
        { siteId: 's3', generation: 1 },
      ]);
      expect((await store.rollouts.sites(r.id)).find((s) => s.siteId === 's1')).toMatchObject({ result: 'applied' });

      // A tick sends only what failed (s2, its recorded generation); s3 went out from this process already.
      broker.down.clear();
      await engine.tick(r.id);
      expect(broker.sent.slice(2)).toEqual([{ siteId: 's2', generation: 1 }]);

      // An ack for a generation s3 was never sent counts for nothing; the real ones complete the rollout.
      await ack('s3', 7);
      await ack('s2', 1);
      await eventually(async () => (await store.rollouts.sites(r.id)).find((s) => s.siteId === 's2')!.result === 'applied', 'the s2 ack');
      expect(await store.rollouts.get(r.id)).toMatchObject({ state: 'running', stage: 1 });
      await ack('s3', 1);
      await eventually(async () => (await store.rollouts.get(r.id))!.state === 'completed', 'the rollout to complete');
      expect(await store.rollouts.get(r.id)).toMatchObject({ stage: 2, stageAckedAt: null, reason: null });
      expect((await store.audit.list({ target: `rollout/${r.id}`, limit: 10 })).map((e) => [e.action, e.details]).reverse()).toEqual([
        ['rollout.start', expect.objectContaining({ sites: 3 })],
        ['rollout.stage', { stage: 1 }],
        ['rollout.completed', { stage: 2 }],
      ]);
      expect(broker.sent).toHaveLength(3);
    } finally {
      engine.stop();
      await store.close();
    }
  });
});
