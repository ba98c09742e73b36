// The site-to-site fabric of mesh-net.ts brought up with real parts: the hub's WireGuard interface
// (HubTunnel with the relay routes and forwarding), each site's tunnel (SiteTunnel on wireguard-go)
// and MeshAgent with its nftables mapping, an echo server in every pod, and `distribute()` doing what
// the hub's mesh service does on a change: peer bundles built by hub/mesh (meshContents) from the link,
// the sites' reports and the endpoints the hub's interface observed, signed like bundles.
// Used by field-tests/site-mesh.kernel.test.ts and bench/mesh.ts.
import { generateKeyPairSync } from 'node:crypto';
import { MeshAgent, nftNat, type Logger, type MeshTunnel } from '../../edge-agent/index.ts';
import { meshContents } from '../../hub/index.ts';
import { keyIdOf, signMesh } from '../../policy/index.ts';
import { MappedPlan, type MeshReport, type PathState } from '../../protocol/index.ts';
import { HubTunnel, OverlayPlan, SiteTunnel, WgPrivateKey } from '../../tunnel/index.ts';
import { probe, startEchoServer } from './connectivity.ts';
import type { Harness } from './harness.ts';
import { buildMeshNet, type MeshNet, type MeshSiteNet } from './mesh-net.ts';

export const MESH_OVERLAY = new OverlayPlan('10.99.0.0/24', 'fd00:99::/64');
export const MESH_PLAN = new MappedPlan();

export interface MeshSite {
  net: MeshSiteNet;
  id: string;
  index: number;
  key: WgPrivateKey;
  tunnel: SiteTunnel;
  /** The agent store's config table, in memory. */
  store: Map<string, unknown>;
  mesh: MeshAgent;
  /** TCP echo port in the site's pod. */
  echoPort: number;
  /** The pod's mapped address as linked sites reach it. */
  mapped: string;
}

export interface MeshSites {
  net: MeshNet;
  hub: HubTunnel;
  sites: [MeshSite, MeshSite];
  /** Builds, signs and hands every site its peer bundle (as the hub's mesh service does); returns when applied. */
  /** `labels`: pod labels by site id (default app=pos), as the sites would report them. */
  distribute(link?: boolean, labels?: Record<string, Record<string, string>>): Promise<void>;
  /** A TCP connection from `from`'s pod to `to`, echoed. */
  reach(from: MeshSite, to: string, timeoutMs?: number): Promise<boolean>;
  stateOf(s: MeshSite, peer: string): PathState | undefined;
  /** A new tunnel (same key and WireGuard port) and mesh agent for a site: an agent restart. */
  restart(s: MeshSite): Promise<void>;
  hubBytes(): Promise<number>;
}

export async function startMeshSites(h: Harness, log: Logger, tickMs = 250): Promise<MeshSites> {
  const signing = generateKeyPairSync('ed25519');
  const trusted = new Map([[keyIdOf(signing.publicKey), signing.publicKey]]);
  const net = await buildMeshNet(h);
  const hub = new HubTunnel({
    ifname: h.names.wgIfname('h'),
    netns: net.hub,
    privateKey: WgPrivateKey.generate(),
    listenPort: 51820,
    addresses: MESH_OVERLAY.hubInterface(),
    routes: [MESH_PLAN.poolPrefix],
    forward: true,
    backend: 'wireguard-go',
    peerKeepaliveS: 5,
  });
  h.onCleanup(() => hub.down());
  await hub.up();

  const meshTunnel = (t: SiteTunnel): MeshTunnel => ({
    ifname: t.current.spec.ifname,
    hubKey: () => t.hub,
    setPeer: (p) => t.current.setPeer(p),
    removePeer: (k) => t.current.removePeer(k),
    state: () => t.current.state(),
    setHubRelayed: (x) => t.setHubRelayed(x),
    setRoutes: (x) => t.current.setExtraRoutes(x),
  });
  const newMesh = (s: Pick<MeshSite, 'id' | 'tunnel' | 'store' | 'net'>) =>
    new MeshAgent({
      siteId: s.id,
      tunnel: meshTunnel(s.tunnel),
      nat: nftNat(s.net.ns),
      store: { get: (k) => s.store.get(k) as never, set: (k, v) => void s.store.set(k, v) },
      trustedKeys: () => trusted,
      log,
      now: Date.now,
    });
  const tunnelUp = async (s: Pick<MeshSite, 'tunnel' | 'index'>) => {
    const a = MESH_OVERLAY.addresses(s.index);
    await s.tunnel.up({
      hubPublicKey: hub.publicKey,
      hubEndpoint: `${net.hubIp}:51820`,
      addresses: [`${a.v4}/32`, `${a.v6}/128`],
      hubAddresses: MESH_OVERLAY.hubInterface(),
      persistentKeepaliveS: 5,
      mtu: 1420,
    });
  };

  const sites: MeshSite[] = [];
  for (const [i, sn] of net.sites.entries()) {
    const index = i + 2;
    const key = WgPrivateKey.generate();
    const tunnel = new SiteTunnel({ ifname: h.names.wgIfname(sn.name), netns: sn.ns, privateKey: key, backend: 'wireguard-go' });
    h.onCleanup(() => tunnel.down());
    await hub.addPeer(`site-${sn.name}`, key.publicKey(), MESH_OVERLAY.hostRoutes(index), [MESH_PLAN.block(index)]);
    const base = { net: sn, id: `site-${sn.name}`, index, key, tunnel, store: new Map<string, unknown>() };
    await tunnelUp(base);
    const echoPort = (await startEchoServer(h, sn.pod, { host: '0.0.0.0' })).tcpPort;
    const mapped = `${MESH_PLAN.block(index).split('.').slice(0, 3).join('.')}.${sn.podIp.split('.')[3]}`;
    sites.push({ ...base, mesh: newMesh(base), echoPort, mapped });
  }
  for (const s of sites) h.onCleanup(async () => s.mesh.stop());

  let generation = 0;
  const m: MeshSites = {
    net,
    hub,
    sites: sites as [MeshSite, MeshSite],
    async distribute(link = true, labels = {}) {
      const observed = new Map((await hub.peers()).map((p) => [p.siteId, p.endpoint]));
      const reports = new Map<string, MeshReport>(
        sites.map((s) => [
          s.id,
          {
            v: 1,
            at: new Date().toISOString(),
            exportPrefix: s.net.exportPrefix,
            endpoints: [],
            namespaces: [{ name: 'shop', labels: {} }],
            pods: [{ namespace: 'shop', name: `pos-${s.net.name}`, labels: labels[s.id] ?? { app: 'pos' }, ips: [s.net.podIp] }],
            paths: [],
          },
        ]),
      );
      const contents = meshContents({
        pairs: link ? [{ a: 'site-a', b: 'site-b', links: [1] }] : [],
        sites: new Map(
          sites.map((s) => [s.id, { id: s.id, wireguardKey: s.key.publicKey(), overlayIndex: s.index, services: [{ name: 'pos', addresses: [s.net.podIp] }] }]),
        ),
        reports,
        observed,
        plan: MESH_PLAN,
        hostRoutes: (i) => MESH_OVERLAY.hostRoutes(i),
      });
      generation++;
      for (const s of sites) {
        const c = contents.get(s.id);
        if (c) await s.mesh.accept(signMesh({ ...c, generation, issuedAt: new Date().toISOString() }, signing.privateKey));
      }
    },
    async reach(from, to, timeoutMs = 1000) {
      const other = sites.find((s) => s !== from) as MeshSite;
      return (await probe(h, from.net.pod, { host: to, port: other.echoPort, timeoutMs })).outcome === 'connected';
    },
    stateOf: (s, peer) => s.mesh.status().find((p) => p.site === peer)?.state,
    async restart(s) {
      // The agent keeps its WireGuard port across restarts (edge-agent/tunnel-component.ts): the NATs and
      // the peer hold that endpoint, and with the hub gone nobody could tell them a new one.
      s.mesh.stop();
      const listenPort = (await s.tunnel.current.state()).listenPort;
      await s.tunnel.down();
      s.tunnel = new SiteTunnel({ ifname: h.names.wgIfname(s.net.name), netns: s.net.ns, privateKey: s.key, backend: 'wireguard-go', listenPort });
      h.onCleanup(() => s.tunnel.down());
      await tunnelUp(s);
      s.mesh = newMesh(s);
      if (!(await s.mesh.restore())) throw new Error(`${s.id}: nothing to restore from the store`);
      s.mesh.start(tickMs);
    },
    hubBytes: async () => (await hub.peers()).reduce((n, p) => n + p.rxBytes + p.txBytes, 0),
  };
  return m;
}

/** Starts the path checks of both sites (after the first distribute()). */
export function startPaths(m: MeshSites, tickMs = 250): void {
  for (const s of m.sites) s.mesh.start(tickMs);
}

/** Polls cond every 50 ms; returns how long it took. */
export async function waitUntil(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<number> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - t0;
}
