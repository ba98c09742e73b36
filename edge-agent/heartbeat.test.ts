import { describe, expect, it } from 'vitest';
import { heartbeatBody, type HeartbeatFacts } from './heartbeat.ts';

const base: HeartbeatFacts = {
  enforcing: true,
  appliedGeneration: 7,
  notEnforcing: null,
  storeWritable: true,
  kubeSynced: true,
  tunnel: { up: true, handshakeAgeS: 20 },
  podsAttached: 12,
  load: { avg1: 1, cpus: 4 },
};

describe('heartbeat body', () => {
  it.each<[string, Partial<HeartbeatFacts>, boolean, string[]]>([
    ['all well', {}, true, []],
    ['not enforcing yet', { enforcing: false }, false, []],
    ['in-memory datapath', { notEnforcing: { code: 'DATAPATH_MEMORY', reason: 'in-memory datapath' } }, false, ['datapath']],
    ['kernel datapath failed to load', { notEnforcing: { code: 'DATAPATH_LOAD', reason: 'kernel datapath unavailable: bad ELF' } }, false, ['datapath']],
    ['k3s not synced', { kubeSynced: false }, false, ['k3s']],
    ['no k3s on the node', { kubeSynced: null }, true, []],
    ['read-only store: still ready, the check says why', { storeWritable: false }, true, ['store']],
    ['stale tunnel: still ready (enforcing needs no tunnel)', { tunnel: { up: true, handshakeAgeS: 600 } }, true, ['tunnel']],
  ])('%s', (_n, over, ready, failing) => {
    const hb = heartbeatBody({ ...base, ...over });
    expect(hb.nodeReady).toBe(ready);
    expect(hb.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(failing);
  });

  it('load is the 1-minute load per CPU, clamped to 0..1; generation, pods and tunnel age are carried', () => {
    expect(heartbeatBody(base)).toMatchObject({ load: 0.25, appliedGeneration: 7, podsAttached: 12, tunnel: { handshakeAgeS: 20 } });
    expect(heartbeatBody({ ...base, load: { avg1: 9, cpus: 2 } }).load).toBe(1);
    expect(heartbeatBody({ ...base, tunnel: null })).not.toHaveProperty('tunnel');
  });

  it('says whether packets are filtered in the kernel, and why not with the code', () => {
    const ok = heartbeatBody(base);
    expect(ok.kernelEnforcing).toBe(true);
    expect(ok).not.toHaveProperty('notEnforcing');
    const notEnforcing = { code: 'DATAPATH_KERNEL_VERSION', reason: 'kernel datapath unavailable: kernel 4.19 is too old' };
    const bad = heartbeatBody({ ...base, notEnforcing });
    expect(bad).toMatchObject({ kernelEnforcing: false, notEnforcing, nodeReady: false });
    expect(bad.checks.find((c) => c.name === 'datapath')?.detail).toBe(
      'not enforcing: kernel datapath unavailable: kernel 4.19 is too old (DATAPATH_KERNEL_VERSION)',
    );
  });
});
