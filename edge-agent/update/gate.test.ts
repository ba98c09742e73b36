import { describe, expect, it } from 'vitest';
import type { AgentStatus } from '../status-types.ts';
import { baselineOf, gateStep, judge, type GateBaseline } from './gate.ts';
import { guardStep, MAX_ATTEMPTS } from './guard.ts';
import type { Pending } from './slots.ts';

function status(
  over: { version?: string; gen?: number; kernel?: boolean; pods?: number; tunnelAge?: number | null; link?: 'connected' | 'reconnecting' } = {},
): AgentStatus {
  return {
    version: over.version ?? '0.2.0',
    state: 'enforcing',
    enrolled: true,
    siteId: 's',
    enforcing: over.kernel ?? true,
    datapath: {
      kind: 'libbpf',
      kernelEnforcing: over.kernel ?? true,
      notEnforcing: over.kernel === false ? { code: 'DATAPATH_KERNEL_VERSION', reason: 'kernel too old' } : null,
      appliedGeneration: over.gen ?? 7,
      appliedAt: null,
      enforcingSince: null,
      timeToEnforcingS: null,
    },
    hub: {
      link: over.link
        ? { state: over.link, url: 'mqtts://hub', mqttVersion: 5, connectedSince: null, lastError: null, reconnects: 0, lastHeartbeatAt: null }
        : null,
      clockSkewMs: null,
    },
    tunnel: over.tunnelAge === undefined ? null : { up: true, handshakeAgeS: over.tunnelAge },
    lastRejection: null,
    outbox: null,
    pods: { attached: over.pods ?? 3, names: [] },
    store: null,
    kube: null,
    mesh: null,
  } as AgentStatus;
}

const full: GateBaseline = { version: '0.2.0', generation: 7, podsAttached: 3, tunnel: true, broker: true };

describe('health gate', () => {
  it('takes its baseline from what the old version had', () => {
    expect(baselineOf(status({ version: '0.1.0', tunnelAge: 20, link: 'connected' }), '0.2.0')).toEqual(full);
    expect(baselineOf(status({ version: '0.1.0', kernel: false }), '0.2.0')).toMatchObject({ generation: 0, tunnel: false, broker: false });
  });

  it.each([
    ['healthy as before', status({ tunnelAge: 20, link: 'connected' }), 'ok'],
    ['no answer', null, 'running'],
    ['the old version still answers', status({ version: '0.1.0', tunnelAge: 20, link: 'connected' }), 'running'],
    ['fewer pods attached', status({ pods: 2, tunnelAge: 20, link: 'connected' }), 'attached'],
    ['not enforcing in the kernel', status({ kernel: false, tunnelAge: 20, link: 'connected' }), 'enforcing'],
    ['an older generation than the last-known-good', status({ gen: 6, tunnelAge: 20, link: 'connected' }), 'enforcing'],
    ['tunnel without a recent handshake', status({ tunnelAge: 900, link: 'connected' }), 'tunnel'],
    ['broker not connected', status({ tunnelAge: 20, link: 'reconnecting' }), 'broker'],
  ])('%s', (_n, s, want) => {
    const j = judge(full, s);
    expect(j.ok ? 'ok' : j.check).toBe(want);
  });

  it('does not ask for a tunnel or broker the old version did not have', () => {
    expect(judge({ ...full, tunnel: false, broker: false }, status())).toEqual({ ok: true });
  });

  it.each([
    ['passes: bless', { ok: true } as const, 10, { kind: 'bless' }],
    ['fails before the deadline: wait', { ok: false, check: 'broker', reason: 'x' } as const, 10, { kind: 'wait' }],
    [
      'fails at the deadline: roll back with the reason',
      { ok: false, check: 'broker', reason: 'broker link reconnecting' } as const,
      60_000,
      {
        kind: 'rollback',
        reason: 'health gate failed after 60 s: broker: broker link reconnecting',
      },
    ],
  ])('%s', (_n, j, elapsed, want) => expect(gateStep(j, elapsed, 60_000)).toEqual(want));
});

describe('service start guard', () => {
  const p = (attempts: number): Pending => ({
    from: '0.1.0',
    to: '0.2.0',
    fromFile: 'weft-agent-0.1.0',
    toFile: 'weft-agent-0.2.0',
    baseline: full,
    swappedAt: 0,
    deadlineMs: 60_000,
    attempts,
    rolloutId: 1,
  });
  it.each([
    ['nothing pending: start', null, 'weft-agent-0.1.0', false, { kind: 'start' }],
    ['killed before the swap: abandon', p(0), 'weft-agent-0.1.0', false, { kind: 'abandon' }],
    ['first start of the new binary, watcher alive', p(0), 'weft-agent-0.2.0', true, { kind: 'watch', attempts: 1, spawnWatcher: false }],
    ['killed during the first start, watcher gone: watch again', p(1), 'weft-agent-0.2.0', false, { kind: 'watch', attempts: 2, spawnWatcher: true }],
    [
      'out of tries: roll back',
      p(MAX_ATTEMPTS),
      'weft-agent-0.2.0',
      false,
      { kind: 'rollback', reason: 'the new agent 0.2.0 was started 3 times without passing the health gate' },
    ],
  ])('%s', (_n, pending, current, watcherAlive, want) => expect(guardStep({ pending, current, watcherAlive })).toEqual(want));
});
