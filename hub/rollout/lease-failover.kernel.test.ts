// Two hubs' rollout engines on one PostgreSQL (a throwaway cluster: root, so the kernel project): only
// the lease holder acts; when its lease session dies, the other takes over within 5 s and finishes the
// rollout, every ack recorded once; a leader that lost the lease cannot write (fencing by epoch).
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SigningKeys } from '../pki/signing-keys.ts';
import { PgLease } from '../store/postgres/lease.ts';
import { openPgStore, type PgHubStore } from '../store/postgres/pg-store.ts';
import { startPostgres, type TestPostgres } from '../store/testing/postgres.ts';
import { eventually } from '../testing/sim-agent.ts';
import { BundleService, type Publisher } from './bundles.ts';
import { RolloutEngine } from './engine.ts';
import type { EngineLease } from './lease.ts';

const dir = mkdtempSync(join(tmpdir(), 'weft-lease-'));
let pgc: TestPostgres;
beforeAll(async () => {
  pgc = await startPostgres();
});
afterAll(() => {
  pgc?.remove();
  rmSync(dir, { recursive: true, force: true });
});

class FakeBroker implements Publisher {
  readonly sent: { siteId: string; generation: number }[] = [];
  async publish(_topic: string, payload: Buffer): Promise<void> {
    // The hub signs a stage once (format 2): each site's id and generation sit beside the shared payload.
    const { siteId, generation } = (JSON.parse(payload.toString('utf8')) as { site: { siteId: string; generation: number } }).site;
    this.sent.push({ siteId, generation });
  }
}

/** A leader that does not know it lost the lease (paused through the takeover). */
class StaleLease extends EventEmitter implements EngineLease {
  constructor(private readonly held: number) {
    super();
  }
  isLeader = () => true;
  epoch = () => this.held;
  start(): void {}
  async stop(): Promise<void> {}
}

interface Hub {
  store: PgHubStore;
  broker: FakeBroker;
  engine: RolloutEngine;
  lease: PgLease;
}

describe('rollout lease on PostgreSQL', () => {
  it('fails over within 5 s when the leader dies; the rollout completes with each ack recorded once; a stale leader cannot write', async () => {
    const url = await pgc.createDatabase('failover');
    const hubs: Hub[] = [];
    const stores: PgHubStore[] = [];
    const log = pino({ level: 'silent' });
    const now = () => Date.now();
    const hub = async (holder: string, lease: EngineLease | PgLease) => {
      const store = await openPgStore(url);
      stores.push(store);
      const keys = new SigningKeys(store.keys, join(dir, 'keys'), { activationDelayMs: 0, overlapMs: 0 });
      await keys.ensure(now());
      const broker = new FakeBroker();
      const engine = new RolloutEngine(store, new BundleService(store, keys, broker, now), now, log, lease as EngineLease);
      if (lease instanceof PgLease) lease.on('acquired', () => void engine.resume());
      return { store, broker, engine, lease, holder };
    };
    try {
      const a = (await hub('a', new PgLease({ url, holder: 'a', pollMs: 200 }))) as Hub;
      hubs.push(a);
      for (const id of ['s1', 's2', 's3', 's4']) {
        await a.store.sites.create(id, { name: id, labels: {}, lat: 0, lon: 0, clientCidrs: [], capacity: 1, services: [] }, 0);
        await a.store.sites.update(id, { state: 'enrolled', enrolledAt: 0 });
      }
      const version = await a.store.policies.add({ yaml: '', objects: [], author: 'ops', message: 'm', createdAt: 0 });
      a.lease.start();
      await eventually(() => a.lease.isLeader(), 'hub a to take the lease');
      const b = (await hub('b', new PgLease({ url, holder: 'b', pollMs: 200 }))) as Hub;
      hubs.push(b);
      b.lease.start();
      await new Promise((r) => setTimeout(r, 500));
      expect([a.lease.isLeader(), b.lease.isLeader()]).toEqual([true, false]);

      // One broker for both hubs: every ack reaches both engines, keyed by the agent's outbox sequence; the
      // first replica to commit it records it, the other finds its key taken.
      let seq = 0;
      const ack = async (siteId: string, to: Hub[] = hubs) => {
        seq++;
        for (const h of to) await h.engine.onAck(siteId, { v: 1, generation: 1, result: 'applied', at: '2026-01-01T00:00:00Z', seq }, 'dev-1');
      };
      const r = await a.engine.create(
        {
          policyVersion: version,
          selector: { matchLabels: {} },
          stages: [
            { name: 'canary', sites: ['s1'] },
            { name: 'all', percent: 100 },
          ],
          auditWindowS: 0,
        },
        'ops',
      );
      // A follower asked to step does nothing.
      await b.engine.tick(r.id);
      expect(b.broker.sent).toEqual([]);
      expect(a.broker.sent).toEqual([{ siteId: 's1', generation: 1 }]);
      // The canary's ack reaches only the follower: it records it, and the leader's periodic tick reads the
      // progress from the store and moves on.
      a.engine.start(100);
      await ack('s1', [b]);
      await eventually(() => a.broker.sent.length === 4, 'hub a to publish the last stage');

      // Hub a dies: its engine stops and its lease session is killed (a live hub would reconnect and may
      // win the lock again; a dead one does not). Hub b takes over and republishes the unacked bundles.
      a.engine.stop();
      const pid = await a.lease.sessionPid();
      const t0 = Date.now();
      await a.lease.stop();
      await b.store.pool.query('SELECT pg_terminate_backend($1)', [pid]);
      await eventually(() => b.lease.isLeader(), 'hub b to take the lease', 5000);
      const failoverMs = Date.now() - t0;
      process.stderr.write(`lease failover: ${failoverMs} ms\n`);
      expect(failoverMs).toBeLessThan(5000);
      await eventually(() => b.broker.sent.length === 3, 'hub b to republish the last stage');
      expect(b.broker.sent.map((x) => [x.siteId, x.generation]).sort()).toEqual([
        ['s2', 1],
        ['s3', 1],
        ['s4', 1],
      ]);

      // A paused old leader (epoch 1) wakes up and records an ack without a sequence (only a leader may): refused by the epoch.
      const stale = await hub('stale', new StaleLease(1));
      await stale.engine.onAck('s2', { v: 1, generation: 1, result: 'applied', at: '2026-01-01T00:00:00Z' });
      await new Promise((res) => setTimeout(res, 200));
      expect(await b.store.rollouts.acks('s2', 10)).toEqual([]);
      expect(await b.store.rollouts.leaseEpoch()).toBe(2);

      for (const s of ['s2', 's3', 's4']) await ack(s);
      await eventually(async () => (await b.store.rollouts.get(r.id))?.state === 'completed', 'the rollout to complete', 5000);
      const { rows } = await b.store.pool.query<{ site_id: string; n: number }>('SELECT site_id, COUNT(*) AS n FROM acks GROUP BY site_id ORDER BY site_id');
      expect(rows).toEqual(['s1', 's2', 's3', 's4'].map((site_id) => ({ site_id, n: 1 })));
      expect((await b.store.rollouts.sites(r.id)).map((x) => x.result)).toEqual(['applied', 'applied', 'applied', 'applied']);
    } finally {
      for (const h of hubs) {
        h.engine.stop();
        await h.lease.stop();
      }
      for (const s of stores) await s.close();
    }
  });
});
