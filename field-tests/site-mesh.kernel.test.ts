// Site to site (issue 22) on network namespaces: two sites built from one template (same LAN, same
// pod range, same pod address), each behind its own NAT, the hub on the "internet". Real parts: the
// hub's WireGuard interface (HubTunnel, relay routes, forwarding), each site's tunnel (SiteTunnel) on
// wireguard-go, each site's MeshAgent with its nftables address mapping, and the peer bundles the hub
// builds (hub/mesh meshContents, signed like bundles) from the endpoints its interface observed.
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeshAgent, nftNat, type MeshTunnel } from '../edge-agent/index.ts';
import { createLogger } from '../edge-agent/index.ts';
import { meshContents } from '../hub/index.ts';
import { keyIdOf, signMesh } from '../policy/index.ts';
import { MappedPlan, type MeshReport } from '../protocol/index.ts';
import { HubTunnel, OverlayPlan, SiteTunnel, WgPrivateKey, wireguardGoAvailable } from '../tunnel/index.ts';
import { Harness, probe, startEchoServer } from './lib/index.ts';
import { blockDirect, buildMeshNet, type MeshNet, type MeshSiteNet } from './lib/mesh-net.ts';

const root = process.getuid?.() === 0;
const wgGo = root && (await wireguardGoAvailable());
const log = createLogger({ level: process.env.WEFT_TEST_LOG ?? 'silent' });

const overlay = new OverlayPlan('10.99.0.0/24', 'fd00:99::/64');
const plan = new MappedPlan();
const signing = generateKeyPairSync('ed25519');
const trusted = new Map([[keyIdOf(signing.publicKey), signing.publicKey]]);

interface Site {
  net: MeshSiteNet;
  index: number;
  key: WgPrivateKey;
  tunnel: SiteTunnel;
  store: Map<string, unknown>;
  mesh: MeshAgent;
}

async function waitUntil(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<number> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return Date.now() - t0;
}

describe.skipIf(!wgGo)('site to site through NAT (needs root and wireguard-go)', () => {
  let h: Harness;
  let net: MeshNet;
  let hub: HubTunnel;
  const sites: Site[] = [];
  let generation = 0;

  const meshTunnel = (t: SiteTunnel): MeshTunnel => ({
    ifname: t.current.spec.ifname,
    hubKey: () => t.hub,
    setPeer: (p) => t.current.setPeer(p),
    removePeer: (k) => t.current.removePeer(k),
    state: () => t.current.state(),
    setHubRelayed: (x) => t.setHubRelayed(x),
    setRoutes: (x) => t.current.setExtraRoutes(x),
  });

  const newMesh = (s: Omit<Site, 'mesh'>) =>
    new MeshAgent({
      siteId: `site-${s.net.name}`,
      tunnel: meshTunnel(s.tunnel),
      nat: nftNat(s.net.ns),
      store: { get: (k) => s.store.get(k) as never, set: (k, v) => void s.store.set(k, v) },
      trustedKeys: () => trusted,
      log,
      now: Date.now,
    });

  /** What the hub does on a change: peer bundles from the link, the reports and the observed endpoints. */
  async function distribute(): Promise<void> {
    const observed = new Map((await hub.peers()).map((p) => [p.siteId, p.endpoint]));
    const reports = new Map<string, MeshReport>(
      sites.map((s) => [
        `site-${s.net.name}`,
        {
          v: 1,
          at: new Date().toISOString(),
          exportPrefix: s.net.exportPrefix,
          endpoints: [],
          namespaces: [{ name: 'shop', labels: {} }],
          pods: [{ namespace: 'shop', name: `pos-${s.net.name}`, labels: { app: 'pos' }, ips: [s.net.podIp] }],
          paths: [],
        },
      ]),
    );
    const contents = meshContents({
      pairs: [{ a: 'site-a', b: 'site-b', links: [1] }],
      sites: new Map(
        sites.map((s) => [`site-${s.net.name}`, { id: `site-${s.net.name}`, wireguardKey: s.key.publicKey(), overlayIndex: s.index, services: [] }]),
      ),
      reports,
      observed,
      plan,
      hostRoutes: (i) => overlay.hostRoutes(i),
    });
    generation++;
    for (const s of sites) {
      const c = contents.get(`site-${s.net.name}`);
      if (c) await s.mesh.accept(signMesh({ ...c, generation, issuedAt: new Date().toISOString() }, signing.privateKey));
    }
  }

  /** A TCP connection from one pod to an address, echoed back (the echo server runs in every pod). */
  const ping = async (from: MeshSiteNet, to: string) => {
    const port = echo.get(from.name === 'a' ? 'b' : 'a') ?? 0;
    return (await probe(h, from.pod, { host: to, port, timeoutMs: 1000 })).outcome === 'connected';
  };
  const echo = new Map<string, number>();
  const stateOf = (s: Site, peer: string) => s.mesh.status().find((p) => p.site === peer)?.state;

  beforeAll(async () => {
    h = await Harness.create();
    net = await buildMeshNet(h);
    hub = new HubTunnel({
      ifname: h.names.wgIfname('h'),
      netns: net.hub,
      privateKey: WgPrivateKey.generate(),
      listenPort: 51820,
      addresses: overlay.hubInterface(),
      routes: [plan.poolPrefix],
      forward: true,
      backend: 'wireguard-go',
      peerKeepaliveS: 5,
    });
    h.onCleanup(() => hub.down());
    await hub.up();
    for (const [i, sn] of net.sites.entries()) {
      const index = i + 2;
      const key = WgPrivateKey.generate();
      const tunnel = new SiteTunnel({ ifname: h.names.wgIfname(sn.name), netns: sn.ns, privateKey: key, backend: 'wireguard-go' });
      h.onCleanup(() => tunnel.down());
      await hub.addPeer(`site-${sn.name}`, key.publicKey(), overlay.hostRoutes(index), [plan.block(index)]);
      const a = overlay.addresses(index);
      await tunnel.up({
        hubPublicKey: hub.publicKey,
        hubEndpoint: `${net.hubIp}:51820`,
        addresses: [`${a.v4}/32`, `${a.v6}/128`],
        hubAddresses: overlay.hubInterface(),
        persistentKeepaliveS: 5,
        mtu: 1420,
      });
      const partial = { net: sn, index, key, tunnel, store: new Map<string, unknown>() };
      sites.push({ ...partial, mesh: newMesh(partial) });
    }
    // Both sites reach the hub through their NATs: the hub now observes their public endpoints.
    for (const sn of net.sites) echo.set(sn.name, (await startEchoServer(h, sn.pod, { host: '0.0.0.0' })).tcpPort);
    await waitUntil(async () => (await hub.peers()).every((p) => p.endpoint !== null), 'both sites handshaking with the hub');
    await distribute();
    for (const s of sites) s.mesh.start(250);
  }, 60_000);

  afterAll(async () => {
    for (const s of sites) s.mesh.stop();
    await h?.cleanup();
  });

  it('the hub observed each site at its NAT, not its LAN address', async () => {
    const peers = await hub.peers();
    expect(peers.map((p) => p.endpoint?.split(':')[0]).sort()).toEqual(['203.0.113.10', '203.0.113.20']);
  });

  it('both NATs open: a direct path forms both ways, and pods with the same address reach each other at mapped addresses', async () => {
    const [a, b] = sites;
    await waitUntil(() => stateOf(a, 'site-b') === 'direct' && stateOf(b, 'site-a') === 'direct', 'direct paths', 45_000);
    expect(a.mesh.status()[0].endpoint?.split(':')[0]).toBe('203.0.113.20');
    // Same pod address at both sites: A's pod reaches B's at 100.64.3.7, B's reaches A's at 100.64.2.7.
    await waitUntil(() => ping(a.net, '100.64.3.7'), 'pod a -> pod b at its mapped address', 10_000);
    await waitUntil(() => ping(b.net, '100.64.2.7'), 'pod b -> pod a at its mapped address', 10_000);
  }, 60_000);

  it('iperf3 between the pods runs over the direct path, not through the hub (hub interface counters)', async () => {
    const [a, b] = sites;
    const server = h.spawn(b.net.pod, ['iperf3', '-s', '-1', '-p', '5201', '--forceflush'], { name: 'iperf3-b' });
    await server.waitForOutput(/Server listening/, 10_000);
    const before = await hub.peers();
    const out = await h.mustExec(a.net.pod, ['iperf3', '-c', '100.64.3.7', '-p', '5201', '-t', '2', '-J'], { timeoutMs: 30_000 });
    const after = await hub.peers();
    const sent = (JSON.parse(out) as { end: { sum_received: { bytes: number; bits_per_second: number } } }).end.sum_received;
    const hubBytes = after.reduce((n, p) => n + p.rxBytes + p.txBytes, 0) - before.reduce((n, p) => n + p.rxBytes + p.txBytes, 0);
    expect(sent.bytes).toBeGreaterThan(1_000_000);
    // Keepalives and handshakes only: far below 1 % of what iperf3 moved.
    expect(hubBytes).toBeLessThan(sent.bytes / 100);
    log.info({ gbps: sent.bits_per_second / 1e9, hubBytes }, 'direct iperf3');
  }, 60_000);

  it('direct UDP blocked: traffic moves to the hub relay within the bound; unblocked: back to direct', async () => {
    const [a, b] = sites;
    await blockDirect(h, net, true);
    const toRelay = await waitUntil(() => stateOf(a, 'site-b') === 'relayed' && stateOf(b, 'site-a') === 'relayed', 'relayed paths', 15_000);
    expect(toRelay).toBeLessThan(8_000);
    const hubBefore = (await hub.peers()).reduce((n, p) => n + p.rxBytes, 0);
    await waitUntil(() => ping(a.net, '100.64.3.7'), 'pod a -> pod b through the relay', 10_000);
    expect((await hub.peers()).reduce((n, p) => n + p.rxBytes, 0)).toBeGreaterThan(hubBefore);
    await blockDirect(h, net, false);
    const toDirect = await waitUntil(() => stateOf(a, 'site-b') === 'direct' && stateOf(b, 'site-a') === 'direct', 'direct again', 30_000);
    log.info({ toRelay, toDirect }, 'failover');
    await waitUntil(() => ping(a.net, '100.64.3.7'), 'pod a -> pod b direct again', 10_000);
  }, 90_000);

  it('the hub gone: the direct link keeps carrying traffic; a restarted mesh agent brings the link back from its store', async () => {
    const [a] = sites;
    await hub.down();
    await new Promise((r) => setTimeout(r, 2000));
    expect(await ping(a.net, '100.64.3.7')).toBe(true);
    expect(stateOf(a, 'site-b')).toBe('direct');
    // Agent restart at A without the hub: the tunnel and the mesh start empty, the store has the peers.
    // The agent keeps its WireGuard port across restarts (the store holds it): the NATs and the peer
    // still hold that endpoint, and with the hub gone nobody could tell them a new one.
    a.mesh.stop();
    const listenPort = (await a.tunnel.current.state()).listenPort;
    await a.tunnel.down();
    a.tunnel = new SiteTunnel({ ifname: h.names.wgIfname(a.net.name), netns: a.net.ns, privateKey: a.key, backend: 'wireguard-go', listenPort });
    h.onCleanup(() => a.tunnel.down());
    const i = a.index;
    const addr = overlay.addresses(i);
    await a.tunnel.up({
      hubPublicKey: hub.publicKey,
      hubEndpoint: `${net.hubIp}:51820`,
      addresses: [`${addr.v4}/32`, `${addr.v6}/128`],
      hubAddresses: overlay.hubInterface(),
      persistentKeepaliveS: 5,
      mtu: 1420,
    });
    a.mesh = newMesh(a);
    expect(await a.mesh.restore()).toBe(true);
    a.mesh.start(250);
    await waitUntil(() => ping(a.net, '100.64.3.7'), 'pod a -> pod b after the restart, hub down', 30_000);
    await waitUntil(() => stateOf(a, 'site-b') === 'direct', 'direct after the restart', 15_000);
  }, 90_000);
});
