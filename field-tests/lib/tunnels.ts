// WireGuard from every site namespace to the hub namespace over the WAN, with the tunnel/
// library: what enrollment will set up once hub and agent exist. Stopped at harness cleanup
// (before its namespaces go, so no supervisor restarts a daemon into a deleted namespace).
import { HubTunnel, OverlayPlan, SiteTunnel, WgPrivateKey } from '../../tunnel/index.ts';
import type { Fabric } from './fabric.ts';
import type { Harness } from './harness.ts';

export interface FabricTunnels {
  hub: HubTunnel;
  /** By site name. */
  sites: Map<string, SiteTunnel>;
  /** Site overlay addresses by site name (IPv4 first). */
  addresses: Map<string, string[]>;
  /** The hub's overlay IPv4 address, reachable from every site through its tunnel. */
  hubOverlayIp: string;
  down(): Promise<void>;
}

export async function connectSitesToHub(h: Harness, fabric: Fabric, opts: { persistentKeepaliveS?: number } = {}): Promise<FabricTunnels> {
  const ov = fabric.plan.overlay;
  const plan = new OverlayPlan(ov.ipv4Prefix, ov.ipv6Prefix);
  const hub = new HubTunnel({
    ifname: h.names.wgIfname('hub'),
    netns: fabric.hub.ns,
    privateKey: WgPrivateKey.generate(),
    listenPort: ov.hubPort,
    addresses: ov.hubAddresses,
  });
  const sites = new Map<string, SiteTunnel>();
  const addresses = new Map<string, string[]>();
  const down = async () => {
    for (const s of sites.values()) await s.down();
    await hub.down();
  };
  h.onCleanup(down);
  await hub.up();
  const hubOverlay = ov.hubAddresses.map((a) => a.split('/')[0]);
  for (const site of fabric.sites) {
    const tunnel = new SiteTunnel({
      ifname: h.names.wgIfname(`s${site.index}`),
      netns: site.ns,
      privateKey: WgPrivateKey.generate(),
      backoff: { initialMs: 50 },
    });
    // The hub is index 1; sites take 2, 3, ... as the hub's enrollment hands them out.
    const addrs = plan.hostRoutes(addresses.size + 2);
    await hub.addPeer(site.name, tunnel.publicKey, addrs);
    sites.set(site.name, tunnel);
    addresses.set(site.name, addrs);
    await tunnel.up({
      hubPublicKey: hub.publicKey,
      hubEndpoint: `${fabric.hub.wanIp}:${ov.hubPort}`,
      addresses: addrs,
      hubAddresses: hubOverlay,
      persistentKeepaliveS: opts.persistentKeepaliveS ?? 1,
      mtu: 1380,
    });
  }
  return { hub, sites, addresses, hubOverlayIp: hubOverlay[0], down };
}
