// Site to site (issue 22) on network namespaces: two sites built from one template (same LAN, same
// pod range, same pod address), each behind its own NAT, the hub on the "internet". Real parts: the
// hub's WireGuard interface (HubTunnel, relay routes, forwarding), each site's tunnel (SiteTunnel) on
// wireguard-go, each site's MeshAgent with its nftables address mapping, and the peer bundles the hub
// builds (hub/mesh meshContents, signed like bundles) from the endpoints its interface observed
// (field-tests/lib/mesh-sites.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VerdictEvent } from '../datapath/index.ts';
import { kernelSkipReason, openTestDatapath } from '../datapath/testing/index.ts';
import { createLogger, resolveVerdict } from '../edge-agent/index.ts';
import { compile, loadPolicies, meshInventory } from '../policy/index.ts';
import { wireguardGoAvailable } from '../tunnel/index.ts';
import { Harness } from './lib/index.ts';
import { blockDirect } from './lib/mesh-net.ts';
import { startMeshSites, startPaths, waitUntil, type MeshSites } from './lib/mesh-sites.ts';

const root = process.getuid?.() === 0;
const wgGo = root && (await wireguardGoAvailable());
const log = createLogger({ level: process.env.WEFT_TEST_LOG ?? 'silent' });

describe.skipIf(!wgGo)('site to site through NAT (needs root and wireguard-go)', () => {
  let h: Harness;
  let m: MeshSites;

  beforeAll(async () => {
    h = await Harness.create();
    m = await startMeshSites(h, log);
    // Both sites reach the hub through their NATs: the hub now observes their public endpoints.
    await waitUntil(async () => (await m.hub.peers()).every((p) => p.endpoint !== null), 'both sites handshaking with the hub');
    await m.distribute();
    startPaths(m);
  }, 60_000);

  afterAll(async () => {
    await h?.cleanup();
  });

  it('the hub observed each site at its NAT, not its LAN address', async () => {
    const peers = await m.hub.peers();
    expect(peers.map((p) => p.endpoint?.split(':')[0]).sort()).toEqual(['203.0.113.10', '203.0.113.20']);
  });

  it('both NATs open: a direct path forms both ways, and pods with the same address reach each other at mapped addresses', async () => {
    const [a, b] = m.sites;
    expect([a.net.podIp, a.mapped, b.net.podIp, b.mapped]).toEqual(['10.42.0.7', '100.64.2.7', '10.42.0.7', '100.64.3.7']);
    await waitUntil(() => m.stateOf(a, 'site-b') === 'direct' && m.stateOf(b, 'site-a') === 'direct', 'direct paths', 45_000);
    expect(a.mesh.status()[0].endpoint?.split(':')[0]).toBe('203.0.113.20');
    await waitUntil(() => m.reach(a, b.mapped), 'pod a -> pod b at its mapped address', 10_000);
    await waitUntil(() => m.reach(b, a.mapped), 'pod b -> pod a at its mapped address', 10_000);
  }, 60_000);

  it('iperf3 between the pods runs over the direct path, not through the hub (hub interface counters)', async () => {
    const [a, b] = m.sites;
    const server = h.spawn(b.net.pod, ['iperf3', '-s', '-1', '-p', '5201', '--forceflush'], { name: 'iperf3-b' });
    await server.waitForOutput(/Server listening/, 10_000);
    const before = await m.hubBytes();
    const out = await h.mustExec(a.net.pod, ['iperf3', '-c', b.mapped, '-p', '5201', '-t', '2', '-J'], { timeoutMs: 30_000 });
    const hubBytes = (await m.hubBytes()) - before;
    const got = (JSON.parse(out) as { end: { sum_received: { bytes: number } } }).end.sum_received;
    expect(got.bytes).toBeGreaterThan(1_000_000);
    // Keepalives and handshakes only: far below 1 % of what iperf3 moved.
    expect(hubBytes).toBeLessThan(got.bytes / 100);
  }, 60_000);

  it('direct UDP blocked: traffic moves to the hub relay within the bound; unblocked: back to direct', async () => {
    const [a, b] = m.sites;
    await blockDirect(h, m.net, true);
    const toRelay = await waitUntil(() => m.stateOf(a, 'site-b') === 'relayed' && m.stateOf(b, 'site-a') === 'relayed', 'relayed paths', 15_000);
    // The bound: 3.5 s without bytes on the direct path (PATH_DEFAULTS.staleMs), plus a check interval.
    expect(toRelay).toBeLessThan(5_000);
    const hubBefore = await m.hubBytes();
    await waitUntil(() => m.reach(a, b.mapped), 'pod a -> pod b through the relay', 10_000);
    expect(await m.hubBytes()).toBeGreaterThan(hubBefore);
    await blockDirect(h, m.net, false);
    await waitUntil(() => m.stateOf(a, 'site-b') === 'direct' && m.stateOf(b, 'site-a') === 'direct', 'direct again', 30_000);
    await waitUntil(() => m.reach(a, b.mapped), 'pod a -> pod b direct again', 10_000);
  }, 90_000);

  it.skipIf(kernelSkipReason)(
    "B's eBPF datapath admits A's app=pos pod and refuses it once labelled otherwise; B's flow events name site A and the rule",
    async () => {
      const [a, b] = m.sites;
      const policy = {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'pos-from-site-a', namespace: 'shop' },
        spec: {
          podSelector: {},
          policyTypes: ['Ingress'],
          ingress: [
            {
              from: [{ namespaceSelector: { matchLabels: { 'weft.dev/site': 'site-a' } }, podSelector: { matchLabels: { app: 'pos' } } }],
              ports: [{ protocol: 'TCP', port: b.echoPort }],
            },
          ],
        },
      };
      const { policies, errors } = loadPolicies([policy], { file: 'test' });
      expect(errors).toEqual([]);
      const local = {
        namespaces: [{ name: 'shop', labels: { 'kubernetes.io/metadata.name': 'shop' } }],
        pods: [{ namespace: 'shop', name: 'pos-b', labels: { app: 'pos' }, ports: [], ips: [b.net.podIp], node: 'b' }],
      };
      const ifindex = (JSON.parse(await h.mustExec(b.net.ns, ['ip', '-j', 'link', 'show', 'veth-pod'])) as { ifindex: number }[])[0].ifindex;
      const { dp, cleanup } = await openTestDatapath({ netns: `/run/netns/${b.net.ns}` });
      h.onCleanup(cleanup);
      const events: VerdictEvent[] = [];
      const reader = (async () => {
        for await (const e of dp.events()) events.push(e);
      })();
      let generation = 0;
      const applyAtB = async () => {
        const tables = compile(policies, meshInventory('site-b', local, b.mesh.peers));
        await dp.apply(tables, ++generation);
        await dp.attach({ pod: 'shop/pos-b', ifindex, ips: [b.net.podIp] });
        return tables;
      };
      let tables = await applyAtB();
      expect(tables.ipcache.map((e) => e.cidr)).toContain(`${a.mapped}/32`);
      await waitUntil(() => m.reach(a, b.mapped), "A's app=pos pod admitted at B", 10_000);
      // A's pod relabelled (its report changes, the hub redistributes): the same address is now refused.
      await m.distribute(true, { [a.id]: { app: 'till' } });
      tables = await applyAtB();
      expect(await m.reach(a, b.mapped, 1500)).toBe(false);
      await waitUntil(() => events.some((e) => e.verdict === 'deny' && e.src === a.mapped), 'a deny event at B', 5_000);
      const deny = events.find((e) => e.verdict === 'deny' && e.src === a.mapped) as VerdictEvent;
      const flow = resolveVerdict(deny, tables, new Date().toISOString(), (ip) => b.mesh.siteOf(ip));
      expect(flow).toMatchObject({
        remoteSite: 'site-a',
        endpoint: 'shop/pos-b',
        direction: 'ingress',
        policy: { kind: 'NetworkPolicy', namespace: 'shop', name: 'pos-from-site-a' },
      });
      // Labelled app=pos again: admitted again.
      await m.distribute(true);
      await applyAtB();
      await waitUntil(() => m.reach(a, b.mapped), "A's app=pos pod admitted again", 10_000);
      void reader.catch(() => undefined);
    },
    60_000,
  );

  it('the hub gone: the direct link keeps carrying traffic; a restarted mesh agent brings the link back from its store', async () => {
    const [a, b] = m.sites;
    await m.hub.down();
    await new Promise((r) => setTimeout(r, 2000));
    expect(await m.reach(a, b.mapped)).toBe(true);
    expect(m.stateOf(a, 'site-b')).toBe('direct');
    await m.restart(a);
    await waitUntil(() => m.reach(a, b.mapped), 'pod a -> pod b after the restart, hub down', 30_000);
    await waitUntil(() => m.stateOf(a, 'site-b') === 'direct', 'direct after the restart', 15_000);
    await m.restart(b);
    await waitUntil(() => m.reach(b, a.mapped), 'pod b -> pod a after its restart, hub down', 30_000);
  }, 90_000);
});
