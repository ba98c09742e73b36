import { describe, expect, it } from 'vitest';
import { MemoryDatapath } from '../datapath/index.ts';
import { compile } from '../policy/index.ts';
import { Enforcer, type AppliedInfo } from './enforcer.ts';
import { createLogger } from './logger.ts';
import { dbFromWeb, fakeVeths, kubePod, shopSnapshot, SITE } from './testing/fixtures.ts';
import { waitFor } from '../base/index.ts';

const log = createLogger({ level: 'silent' });
const payload = (generation: number, policies: unknown[] = [dbFromWeb]) => ({
  siteId: SITE,
  generation,
  issuedAt: '2026-11-29T00:00:00Z',
  policyVersion: generation,
  policies,
});

function make(debounceMs: number) {
  const applied: AppliedInfo[] = [];
  const dp = new MemoryDatapath();
  const enforcer = new Enforcer({ datapath: dp, compile, resolveVeth: fakeVeths, log, nodeName: 'node-1', debounceMs, onApplied: (a) => applied.push(a) });
  return { enforcer, dp, applied };
}

describe('enforcer', () => {
  it('debounces a burst of inventory changes into one recompile with the last inventory', async () => {
    const { enforcer, applied } = make(100);
    enforcer.seedInventory(shopSnapshot());
    await enforcer.applyBundle(enforcer.prepare(payload(1)));
    for (let i = 0; i < 50; i++) enforcer.setInventory(shopSnapshot([kubePod('shop', `web-${i}`, 'web', `10.42.2.${i + 1}`)]));
    await waitFor(() => applied.length === 2, { timeoutMs: 10_000, what: 'the debounced apply' });
    await enforcer.idle();
    expect(applied.map((a) => a.reason)).toEqual(['bundle', 'inventory']);
    expect(applied[1].snapshot.pods.map((p) => p.name)).toContain('web-49');
    expect(applied[1].generation).toBe(1); // same bundle, recompiled tables
    expect(enforcer.attached.map((e) => e.pod)).toContain('shop/web-49');
    expect(enforcer.attached).toHaveLength(4);
  });

  it('a bundle that does not compile is refused with a POLICY_ code; the live tables stay', async () => {
    const { enforcer, dp } = make(10);
    enforcer.seedInventory(shopSnapshot());
    await enforcer.applyBundle(enforcer.prepare(payload(1)));
    expect(() => enforcer.prepare(payload(2, [{ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'x' } }]))).toThrow(
      expect.objectContaining({ code: expect.stringMatching(/^POLICY_/) }),
    );
    expect(await dp.appliedGeneration()).toBe(1);
  });

  it('without a bundle, inventory changes only attach and detach (the datapath allows all)', async () => {
    const { enforcer, applied } = make(10);
    enforcer.setInventory(shopSnapshot());
    await waitFor(() => enforcer.attached.length === 3, { timeoutMs: 10_000, what: 'attach' });
    await enforcer.idle();
    expect(applied).toEqual([]);
    expect(enforcer.appliedGeneration).toBe(0);
  });
});
