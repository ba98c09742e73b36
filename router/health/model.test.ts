// Seeding the model with a site's last known health (past one hub: from the store), before any
// message from the broker: it holds until heartbeats confirm it or it goes stale.
import { describe, expect, it } from 'vitest';
import { createHealthModel } from './model.ts';

const hb = { v: 1 as const, at: '2026-01-01T00:00:00Z', nodeReady: true, checks: [], load: 0.1, appliedGeneration: 3 };

describe('HealthModel.seed', () => {
  it('takes a known health for a site it has not heard of, then heartbeats keep it or staleness ends it', () => {
    const m = createHealthModel({ heartbeatIntervalMs: 1000, missedHeartbeats: 3, upAfter: 2 });
    const updates: string[] = [];
    m.on('update', (s: { siteId: string; health: string }) => updates.push(`${s.siteId}:${s.health}`));
    m.seed({ siteId: 'a', health: 'online', since: 50, reason: '2 good heartbeats' }, 100);
    m.seed({ siteId: 'b', health: 'offline', since: 60, reason: 'last will: offline' }, 100);
    expect(updates).toEqual(['a:online', 'b:offline']);
    expect(m.get('a')).toMatchObject({ health: 'online', since: 50, lastReason: '2 good heartbeats' });
    // One good heartbeat keeps it online (no second hysteresis).
    expect(m.apply('a', { type: 'heartbeat', heartbeat: hb, at: 900 }).event).toBeUndefined();
    // What the model already knows is not overwritten.
    m.seed({ siteId: 'a', health: 'offline', since: 70, reason: 'old' }, 1000);
    expect(m.get('a')?.health).toBe('online');
    // No heartbeat for longer than the window: offline.
    expect(m.tick(900 + 3001).map((e) => `${e.siteId}:${e.to}`)).toEqual(['a:offline']);
  });

  it('a draining site stays draining', () => {
    const m = createHealthModel();
    m.seed({ siteId: 'd', health: 'draining', since: 1, reason: 'drain requested' }, 10);
    expect(m.get('d')).toMatchObject({ health: 'draining', condition: 'online', draining: true });
  });
});
