// The health rules with plain data and a hand-driven clock: down fast, up after N good heartbeats.
import { describe, expect, it } from 'vitest';
import type { HeartbeatMessage } from '../../protocol/index.ts';
import { initialHealthState, kernelEnforcingOf, stepHealth } from './state-machine.ts';
import { DEFAULT_HEALTH_CONFIG, type HealthConfig, type HealthInput, type SiteHealth, type SiteHealthEvent } from './types.ts';

const hb = (over: Partial<HeartbeatMessage> = {}): HeartbeatMessage => ({
  v: 1,
  at: '2026-01-01T00:00:00Z',
  nodeReady: true,
  enforcing: true,
  appliedGeneration: 3,
  checks: [{ name: 'pos', ok: true }],
  load: 0.25,
  link: { reconnects: 0, outboxDepth: 0, outboxLost: 0 },
  ...over,
});
const good = (at: number): HealthInput => ({ type: 'heartbeat', heartbeat: hb(), at });
const bad = (at: number): HealthInput => ({ type: 'heartbeat', heartbeat: hb({ checks: [{ name: 'pos', ok: false, detail: 'HTTP 500' }] }), at });
const will = (at: number): HealthInput => ({ type: 'status', state: 'offline', retained: false, at });
const live = (at: number): HealthInput => ({ type: 'status', state: 'online', retained: false, at });
const retainedOnline = (at: number): HealthInput => ({ type: 'status', state: 'online', retained: true, at });
const tick = (at: number): HealthInput => ({ type: 'tick', at });
const drain = (draining: boolean, at: number): HealthInput => ({ type: 'drain', draining, at });

/** Runs inputs from a fresh site; returns the health after each input and the events emitted. */
function run(inputs: HealthInput[], config: HealthConfig = DEFAULT_HEALTH_CONFIG): { healths: SiteHealth[]; events: SiteHealthEvent[] } {
  let s = initialHealthState('s1', 0);
  const healths: SiteHealth[] = [];
  const events: SiteHealthEvent[] = [];
  for (const i of inputs) {
    const step = stepHealth(s, i, config);
    s = step.state;
    healths.push(s.health);
    if (step.event) events.push(step.event);
  }
  return { healths, events };
}

describe('site health state machine', () => {
  it.each<[string, HealthInput[], SiteHealth[]]>([
    ['a live online waits for 2 good heartbeats', [live(0), good(5000), good(10000)], ['offline', 'offline', 'online']],
    ['one bad heartbeat degrades at once', [good(0), good(5000), bad(10000)], ['offline', 'online', 'degraded']],
    ['degraded needs 2 good heartbeats to recover', [good(0), good(1), bad(2), good(3), good(4)], ['offline', 'online', 'degraded', 'degraded', 'online']],
    [
      'a bad heartbeat in the recovery resets the streak',
      [good(0), good(1), bad(2), good(3), bad(4), good(5), good(6)],
      ['offline', 'online', 'degraded', 'degraded', 'degraded', 'degraded', 'online'],
    ],
    ['the last will takes it offline at once', [good(0), good(1), will(2)], ['offline', 'online', 'offline']],
    ['a dropped session takes it offline at once', [good(0), good(1), { type: 'session-down', at: 2 }], ['offline', 'online', 'offline']],
    ['stale after 3 missed heartbeats (15 s), not before', [good(0), good(5000), tick(20000), tick(20001)], ['offline', 'online', 'online', 'offline']],
    ['a failing site comes up as degraded after 2 heartbeats', [bad(0), bad(5000)], ['offline', 'degraded']],
    [
      'node not ready is a failing check',
      [good(0), good(1), { type: 'heartbeat', heartbeat: hb({ nodeReady: false }), at: 2 }],
      ['offline', 'online', 'degraded'],
    ],
    [
      'drain shows draining while alive, offline wins',
      [good(0), good(1), drain(true, 2), will(3), good(4), good(5), drain(false, 6)],
      ['offline', 'online', 'draining', 'offline', 'offline', 'draining', 'online'],
    ],
    ['warm start trusts a retained online at once', [retainedOnline(0)], ['online']],
    ['warm start goes stale without a heartbeat', [retainedOnline(0), tick(15000), tick(15001)], ['online', 'online', 'offline']],
    ['a retained online does not revive a known site', [good(0), good(1), will(2), retainedOnline(3)], ['offline', 'online', 'offline', 'offline']],
    ['a retained offline is offline', [retainedOnline(0), { type: 'status', state: 'offline', retained: true, at: 1 }], ['online', 'offline']],
  ])('%s', (_name, inputs, want) => expect(run(inputs).healths).toEqual(want));

  it('honours a configured hysteresis and heartbeat interval', () => {
    const config = { heartbeatIntervalMs: 1000, missedHeartbeats: 2, upAfter: 4 };
    expect(run([good(0), good(1), good(2), good(3), tick(2003), tick(2004)], config).healths).toEqual([
      'offline',
      'offline',
      'offline',
      'online',
      'online',
      'offline',
    ]);
  });

  it('emits one event per change with from, to, at and reason', () => {
    const { events } = run([good(0), good(5000), bad(7000), will(8000)]);
    expect(events).toEqual([
      { siteId: 's1', from: 'offline', to: 'online', at: 5000, reason: '2 good heartbeats' },
      { siteId: 's1', from: 'online', to: 'degraded', at: 7000, reason: 'failing: pos (HTTP 500)' },
      { siteId: 's1', from: 'degraded', to: 'offline', at: 8000, reason: 'last will: offline' },
    ]);
  });

  it('keeps load, checks and generation from the latest heartbeat', () => {
    let s = initialHealthState('s1', 0);
    s = stepHealth(s, { type: 'heartbeat', heartbeat: hb({ load: 0.8, appliedGeneration: 9 }), at: 1 }, DEFAULT_HEALTH_CONFIG).state;
    expect(s).toMatchObject({ load: 0.8, appliedGeneration: 9, lastHeartbeatAt: 1, nodeReady: true, checks: [{ name: 'pos', ok: true }] });
  });

  it('shows a site that cannot enforce in the kernel at its first heartbeat, before hysteresis moves its health', () => {
    const notEnforcing = { code: 'DATAPATH_LOAD', reason: 'kernel datapath unavailable: loading pod_egress.o: Invalid argument' };
    let s = initialHealthState('s1', 0);
    expect(s).toMatchObject({ kernelEnforcing: null, notEnforcing: null });
    s = stepHealth(s, { type: 'heartbeat', heartbeat: hb({ nodeReady: false, kernelEnforcing: false, notEnforcing }), at: 1 }, DEFAULT_HEALTH_CONFIG).state;
    expect(s).toMatchObject({ health: 'offline', kernelEnforcing: false, notEnforcing });
    // A fixed machine says so at its next heartbeat; a site that is online and stops enforcing degrades at once.
    for (const at of [2, 3]) s = stepHealth(s, { type: 'heartbeat', heartbeat: hb({ kernelEnforcing: true }), at }, DEFAULT_HEALTH_CONFIG).state;
    expect(s).toMatchObject({ health: 'online', kernelEnforcing: true, notEnforcing: null });
    s = stepHealth(s, { type: 'heartbeat', heartbeat: hb({ nodeReady: false, kernelEnforcing: false, notEnforcing }), at: 4 }, DEFAULT_HEALTH_CONFIG).state;
    expect(s).toMatchObject({ health: 'degraded', kernelEnforcing: false, notEnforcing });
  });

  it.each<[string, Partial<HeartbeatMessage>, ReturnType<typeof kernelEnforcingOf>]>([
    ['enforcing', { kernelEnforcing: true }, { kernelEnforcing: true, notEnforcing: null }],
    [
      'not enforcing, with the code',
      { kernelEnforcing: false, notEnforcing: { code: 'DATAPATH_KERNEL_FEATURE', reason: 'no BTF' } },
      { kernelEnforcing: false, notEnforcing: { code: 'DATAPATH_KERNEL_FEATURE', reason: 'no BTF' } },
    ],
    [
      'not enforcing, no reason given',
      { kernelEnforcing: false },
      { kernelEnforcing: false, notEnforcing: { code: 'DATAPATH_UNKNOWN', reason: 'the agent gave no reason' } },
    ],
    [
      'an older agent: its datapath check passes',
      { checks: [{ name: 'datapath', ok: true, detail: 'kernel' }] },
      { kernelEnforcing: true, notEnforcing: null },
    ],
    [
      'an older agent on the in-memory fallback',
      { checks: [{ name: 'datapath', ok: false, detail: 'in-memory fallback: packets are not filtered' }] },
      { kernelEnforcing: false, notEnforcing: { code: 'DATAPATH_NOT_KERNEL', reason: 'in-memory fallback: packets are not filtered' } },
    ],
    ['no field and no datapath check: unknown', {}, { kernelEnforcing: null, notEnforcing: null }],
  ])('kernel enforcing from a heartbeat: %s', (_n, over, want) => expect(kernelEnforcingOf(hb(over))).toEqual(want));
});
