// The harness proven end to end: hub + WAN + 2 sites (2 pods each) + a client, WireGuard from
// each site to the hub over the WAN, real traffic, a partition and a heal, and nothing left after.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness } from './harness.ts';
import { buildFabric } from './fabric.ts';
import type { Fabric } from './fabric.ts';
import { probe, probeUntil, startEchoServer, waitForPort } from './connectivity.ts';
import type { EchoServer } from './connectivity.ts';
import { connectSitesToHub } from './tunnels.ts';
import type { FabricTunnels } from './tunnels.ts';
import { listNetns, wgSockets } from './cleanup.ts';
import { exec } from './exec.ts';
import { isAlive } from './cleanup.ts';

const isRoot = process.getuid?.() === 0;
const hasWgGo = (await exec(undefined, ['wireguard-go', '--version'])).code === 0;
const skip = !isRoot || !hasWgGo;
if (skip) console.warn(`field-tests/lib/fabric.kernel.test.ts skipped: ${!isRoot ? 'needs root for network namespaces' : 'wireguard-go is not installed'}`);

describe.skipIf(skip)('field-test fabric', () => {
  let h: Harness;
  let fabric: Fabric;
  let tunnels: FabricTunnels;
  let hubEcho: EchoServer;
  let podEcho: EchoServer;

  beforeAll(async () => {
    h = await Harness.create();
    fabric = await buildFabric(h, { sites: 2, podsPerSite: 2, clients: 1 });
    hubEcho = await startEchoServer(h, fabric.hub.ns);
    podEcho = await startEchoServer(h, fabric.sites[0].pods[1].ns);
    tunnels = await connectSitesToHub(h, fabric);
  });

  afterAll(async () => {
    await h?.cleanup();
  });

  it('builds the namespaces, bridges and pod veths the plan describes', async () => {
    const ours = (await listNetns()).filter((n) => n.startsWith(h.names.prefix));
    expect(ours.sort()).toEqual(
      [fabric.wan.ns, fabric.hub.ns, ...fabric.sites.flatMap((s) => [s.ns, ...s.pods.map((p) => p.ns)]), ...fabric.clients.map((c) => c.ns)].sort(),
    );
    const site = fabric.sites[0];
    expect(site.podCidr).toBe('10.101.0.0/24');
    // host ends of the pod veths live in the site namespace, enslaved to the site bridge
    for (const pod of site.pods) {
      expect(await h.mustExec(undefined, ['ip', '-n', site.ns, '-o', 'link', 'show', 'dev', pod.hostVeth])).toContain(`master ${site.bridge}`);
    }
  });

  it('tells connected, refused and timed out apart, over TCP and UDP', async () => {
    const [s1] = fabric.sites;
    const [pod1, pod2] = s1.pods;
    expect(await probe(h, pod1.ns, { host: pod2.ip, port: podEcho.tcpPort })).toMatchObject({ outcome: 'connected', stage: 'echo' });
    expect(await probe(h, pod1.ns, { proto: 'udp', host: pod2.ip, port: podEcho.udpPort })).toMatchObject({ outcome: 'connected' });
    expect(await probe(h, pod1.ns, { host: pod2.ip, port: 1 })).toMatchObject({ outcome: 'refused' });
    expect(await probe(h, pod1.ns, { proto: 'udp', host: pod2.ip, port: 1 })).toMatchObject({ outcome: 'refused' });
    // an address on the pod subnet that nobody holds: no ARP answer, no connection
    expect(await probe(h, pod1.ns, { host: '10.101.0.250', port: 80, timeoutMs: 500 })).toMatchObject({
      outcome: expect.stringMatching(/^(timeout|unreachable)$/),
    });
    // a client reaches a pod in site 1 across the WAN, the hub reaches it too
    expect(await probe(h, fabric.clients[0].ns, { host: pod2.ip, port: podEcho.tcpPort })).toMatchObject({ outcome: 'connected' });
    await waitForPort(h, fabric.hub.ns, pod2.ip, podEcho.tcpPort, 5000);
  });

  it('carries traffic from every site to the hub through WireGuard over the WAN', async () => {
    for (const site of fabric.sites) {
      expect(await probeUntil(h, site.ns, { host: tunnels.hubOverlayIp, port: hubEcho.tcpPort }, 'connected', 10_000)).toMatchObject({ outcome: 'connected' });
      expect(await probe(h, site.ns, { proto: 'udp', host: 'fd00:99::1', port: hubEcho.udpPort })).toMatchObject({ outcome: 'connected' });
      expect(await tunnels.sites.get(site.name)?.handshakeAgeS()).toEqual(expect.any(Number));
    }
    const peers = await tunnels.hub.peers();
    expect(peers.map((p) => [p.siteId, p.endpoint?.split(':')[0]])).toEqual(fabric.sites.map((s) => [s.name, s.wanIp]));
  });

  it("a partition stops one site's tunnel traffic (and only its), heal brings it back", async () => {
    const [s1, s2] = fabric.sites;
    const target = { host: tunnels.hubOverlayIp, port: hubEcho.tcpPort, timeoutMs: 1000 };
    await s1.link.partition();
    expect(s1.link.state.partitioned).toBe(true);
    expect(await probe(h, s1.ns, target)).toMatchObject({ outcome: 'timeout' });
    expect(await probe(h, s1.ns, { host: fabric.hub.wanIp, port: hubEcho.tcpPort, timeoutMs: 500 })).toMatchObject({
      outcome: expect.stringMatching(/^(timeout|unreachable)$/),
    });
    const rxBefore = (await tunnels.hub.peers()).find((p) => p.siteId === s1.name)?.rxBytes;
    expect(await probe(h, s2.ns, target)).toMatchObject({ outcome: 'connected' });
    expect((await tunnels.hub.peers()).find((p) => p.siteId === s1.name)?.rxBytes).toBe(rxBefore);
    await s1.link.heal();
    expect(await probeUntil(h, s1.ns, target, 'connected', 10_000)).toMatchObject({ outcome: 'connected' });
  });

  it('100 % loss drops like a partition; latency needs netem and says so when it is missing', async () => {
    const [, s2] = fabric.sites;
    const target = { host: tunnels.hubOverlayIp, port: hubEcho.tcpPort, timeoutMs: 1000 };
    await s2.link.set({ lossPct: 100 });
    expect(await probe(h, s2.ns, target)).toMatchObject({ outcome: 'timeout' });
    await s2.link.set({});
    expect(await probeUntil(h, s2.ns, target, 'connected', 10_000)).toMatchObject({ outcome: 'connected' });
    await expect(s2.link.set({ lossPct: 150 })).rejects.toMatchObject({ code: 'HARNESS_BAD_OPTIONS' });
    if (!fabric.netem) {
      console.warn('this kernel has no sch_netem: link latency is unavailable (partitions and loss use nftables)');
      await expect(s2.link.set({ latencyMs: 50 })).rejects.toMatchObject({ code: 'HARNESS_NETEM_UNAVAILABLE' });
    } else {
      await s2.link.set({ latencyMs: 100 });
      const slow = await probe(h, s2.ns, { ...target, host: fabric.hub.wanIp, timeoutMs: 3000 });
      expect(slow.outcome).toBe('connected');
      expect(slow.ms).toBeGreaterThanOrEqual(200);
      await s2.link.set({});
    }
  });

  it('cleanup leaves no namespace, process, socket or log directory behind', async () => {
    const pids = h.processes().map((p) => p.pid);
    const wgPids = [...tunnels.sites.values()].map((s) => (s.current.current as { pid?: number }).pid).filter((p): p is number => p !== undefined);
    expect(wgPids.length).toBe(2);
    const report = await h.cleanup();
    expect(report.netns.length).toBe(1 + 1 + 2 * 3 + 1);
    expect((await listNetns()).filter((n) => n.startsWith(h.names.prefix))).toEqual([]);
    for (const pid of [...pids, ...wgPids]) expect(isAlive(pid)).toBe(false);
    expect(wgSockets(h.names.tag)).toEqual([]);
    const hostLinks = (await h.mustExec(undefined, ['ip', '-o', 'link'])).split('\n');
    expect(hostLinks.filter((l) => l.includes(`wft${h.names.tag}`) || /\b(p-hub|p-site\d|br-wan|veth-pod\d)\b/.test(l))).toEqual([]);
    expect((await exec(undefined, ['test', '-e', h.dir])).code).not.toBe(0);
  });
});
