import { describe, expect, it } from 'vitest';
import { MemoryDatapath } from '../datapath/index.ts';
import { compile, lookup } from '../policy/index.ts';
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

  it('compiles a site ClusterNetworkPolicy from the k3s API, its nodes peer matching the Node addresses of the snapshot', async () => {
    const { enforcer, applied } = make(10);
    const guard = {
      apiVersion: 'policy.networking.k8s.io/v1alpha2',
      kind: 'ClusterNetworkPolicy',
      metadata: { name: 'no-infra-nodes' },
      spec: {
        tier: 'Admin',
        priority: 1,
        subject: { namespaces: {} },
        egress: [{ name: 'infra', action: 'Deny', to: [{ nodes: { matchLabels: { role: 'infra' } } }] }],
      },
    };
    enforcer.seedInventory({
      ...shopSnapshot(),
      policies: [guard],
      nodes: [
        { name: 'infra-1', labels: { role: 'infra' }, addresses: ['192.168.7.1'] },
        { name: 'worker-1', labels: { role: 'worker' }, addresses: ['192.168.7.2'] },
      ],
    });
    await enforcer.applyBundle(enforcer.prepare(payload(1)));
    const t = applied[0].tables;
    expect(lookup(t, { src: 'shop/web', dst: '192.168.7.1', protocol: 'TCP', port: 22 })).toMatchObject({
      allowed: false,
      decidedBy: { kind: 'ClusterNetworkPolicy', tier: 'Admin', name: 'no-infra-nodes', rule: 'egress[0]', ruleName: 'infra' },
    });
    expect(lookup(t, { src: 'shop/web', dst: '192.168.7.2', protocol: 'TCP', port: 22 }).allowed).toBe(true);
  });
});
