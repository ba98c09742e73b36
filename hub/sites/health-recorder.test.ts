// Health changes in the store: two hub replicas (two health models fed the same broker messages, one
// store) record each change once, and a hub restarted on the same store shows the same timeline.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createHealthModel } from '../../router/index.ts';
import { openHubStore } from '../store/sqlite-store.ts';
import { HealthRecorder } from './health-recorder.ts';
import { timeline } from './timeline.ts';

const dir = mkdtempSync(join(tmpdir(), 'weft-health-recorder-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const quiet = pino({ level: 'silent' });

describe('HealthRecorder', () => {
  it('stores each change once for several replicas, and a restarted hub shows the same timeline', async () => {
    const file = join(dir, 'hub.db');
    const store = openHubStore(file);
    const replicas = [createHealthModel({ heartbeatIntervalMs: 5000 }), createHealthModel({ heartbeatIntervalMs: 5000 })];
    const recorders = replicas.map((m) => new HealthRecorder(m, store, quiet, 5000));
    // The same broker messages reach both replicas, a few ms apart.
    const feed = (at: number, input: (at: number) => Parameters<(typeof replicas)[0]['apply']>[1]) =>
      replicas.forEach((m, i) => m.apply('s1', input(at + i * 3)));
    feed(1_000, (at) => ({ type: 'status', state: 'online', retained: true, at }));
    feed(2_000, (at) => ({ type: 'drain', draining: true, at }));
    feed(3_000, (at) => ({ type: 'session-down', at }));
    for (const r of recorders) await r.close();

    const seen = await store.health.list('s1', 50);
    expect(seen.map((e) => `${e.from}->${e.to}`)).toEqual(['draining->offline', 'online->draining', 'offline->online']);
    const before = timeline([], [], seen).filter((e) => e.kind === 'health');
    await store.close();

    const restarted = openHubStore(file);
    try {
      const after = timeline([], [], await restarted.health.list('s1', 50)).filter((e) => e.kind === 'health');
      expect(after).toEqual(before);
      expect(after[0].summary).toMatch(/^draining → offline/);
    } finally {
      await restarted.close();
    }
  });

  it('keeps the hub up when the store refuses a write: the change is logged, not thrown', async () => {
    const store = openHubStore(join(dir, 'closed.db'));
    const model = createHealthModel({ heartbeatIntervalMs: 5000 });
    const warnings: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) });
    const recorder = new HealthRecorder(model, store, log, 5000);
    await store.close();
    model.apply('s1', { type: 'status', state: 'online', retained: true, at: 1 });
    await recorder.close();
    expect(warnings.join('')).toContain('could not store a health change');
  });
});
