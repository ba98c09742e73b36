// Builds the multi-site fabric on network namespaces (see addressing.ts for the plan):
//
//   client j ──┐                       site i: wan0 ─ [site ns] ─ br-pods ─┬─ veth-pod1 ═ eth0 [pod1 ns]
//   hub ───────┼── br-wan [WAN ns] ────┤        (routes, forwards)          └─ veth-pod2 ═ eth0 [pod2 ns]
//   site i ────┘  (nft per port: partition, loss; netem when the kernel has it)
//
// Each pod's veth has its host end (veth-podK) in the site namespace, attached to the site
// bridge: that host end is where the agent's tc programs attach, as on a k3s node.
import { HarnessError } from './errors.ts';
import type { Harness } from './harness.ts';
import { addressPlan, MAX_CLIENTS, MAX_SITES } from './addressing.ts';
import type { AddressPlan } from './addressing.ts';
import { initWanFilter, netemAvailable, WanLink } from './link-shaper.ts';

export interface FabricOptions {
  sites: number;
  /** 2..4, default 2. */
  podsPerSite?: number;
  /** default 1. */
  clients?: number;
  /**
   * How pods reach their site (default 'bridge'), for all sites or per site (by index; missing: 'bridge'):
   * - 'bridge': host veths enslaved to the site bridge br-pods (k3s flannel's cni0 layout); the agent
   *   finds a pod's veth through the pod's network namespace;
   * - 'routed': each pod's /32 routed to its host veth, the gateway answered by the site
   *   (calico's layout); the agent finds a pod's veth by route lookup.
   */
  podNetwork?: PodNetwork | PodNetwork[];
  /** More members of the WAN (more hub nodes, a database), by role and WAN address (free ones: 198.18.0.2..9). */
  extraMembers?: { role: string; wanIp: string }[];
}

export type PodNetwork = 'bridge' | 'routed';

/** Anything attached to the WAN bridge. */
export interface WanMember {
  name: string;
  ns: string;
  wanIp: string;
  /** The uplink inside the member's namespace. */
  wanDev: string;
  /** Its WAN link: partition, heal, loss, latency. */
  link: WanLink;
}

export interface PodNet {
  name: string;
  ns: string;
  ip: string;
  /** Interface in the pod namespace. */
  dev: string;
  /** Host-side veth, in the site namespace: where tc programs attach. */
  hostVeth: string;
}

export interface SiteNet extends WanMember {
  index: number;
  podNetwork: PodNetwork;
  /** The pod bridge ('bridge' pod network), or 'lo', which holds the gateway address ('routed'). */
  bridge: string;
  podCidr: string;
  gateway: string;
  pods: PodNet[];
}

export interface Fabric {
  plan: AddressPlan;
  wan: { ns: string; bridge: string };
  hub: WanMember;
  sites: SiteNet[];
  clients: WanMember[];
  /** FabricOptions.extraMembers, in order. */
  extra: WanMember[];
  /** Whether link latency is available (sch_netem in the kernel). */
  netem: boolean;
}

const WAN_DEV = 'wan0';
const WAN_BRIDGE = 'br-wan';
const POD_BRIDGE = 'br-pods';

function check(o: FabricOptions): Required<FabricOptions> {
  const r = {
    sites: o.sites,
    podsPerSite: o.podsPerSite ?? 2,
    clients: o.clients ?? 1,
    podNetwork: o.podNetwork ?? 'bridge',
    extraMembers: o.extraMembers ?? [],
  };
  for (const [i, n] of [r.podNetwork].flat().entries()) {
    if (n !== 'bridge' && n !== 'routed')
      throw new HarnessError(
        'HARNESS_BAD_OPTIONS',
        `fabric options: podNetwork${Array.isArray(r.podNetwork) ? `[${i}]` : ''} ${String(n)} is not bridge or routed`,
      );
  }
  const bad = (what: string, v: number, lo: number, hi: number) =>
    !Number.isInteger(v) || v < lo || v > hi ? `${what} ${v} is outside ${lo}..${hi}` : undefined;
  const problem = bad('sites', r.sites, 1, MAX_SITES) ?? bad('podsPerSite', r.podsPerSite, 2, 4) ?? bad('clients', r.clients, 0, MAX_CLIENTS);
  if (problem) throw new HarnessError('HARNESS_BAD_OPTIONS', `fabric options: ${problem}`);
  return r;
}

async function sysctl(h: Harness, ns: string, settings: string[]): Promise<void> {
  await h.mustExec(ns, ['sysctl', '-q', '-w', ...settings]);
}

export async function buildFabric(h: Harness, options: FabricOptions): Promise<Fabric> {
  const o = check(options);
  const plan = addressPlan(o);
  const ip = (ns: string, ...args: string[]) => h.mustExec(undefined, ['ip', '-n', ns, ...args]);

  const wanNs = await h.addNetns('wan');
  await ip(wanNs, 'link', 'add', WAN_BRIDGE, 'type', 'bridge');
  await ip(wanNs, 'link', 'set', WAN_BRIDGE, 'up');
  await initWanFilter(wanNs);
  let netem: boolean | undefined;

  /** A member namespace with its uplink on the WAN bridge. */
  const attach = async (role: string, wanIp: string): Promise<WanMember> => {
    const ns = await h.addNetns(role);
    const port = `p-${role}`;
    await h.mustExec(undefined, ['ip', 'link', 'add', WAN_DEV, 'netns', ns, 'type', 'veth', 'peer', 'name', port, 'netns', wanNs]);
    await ip(wanNs, 'link', 'set', port, 'master', WAN_BRIDGE, 'up');
    await ip(ns, 'addr', 'add', `${wanIp}/${plan.wan.prefixLen}`, 'dev', WAN_DEV);
    await ip(ns, 'link', 'set', WAN_DEV, 'up');
    netem ??= await netemAvailable(wanNs, port);
    const link = new WanLink(wanNs, port, { ns, dev: WAN_DEV }, netem);
    await link.init();
    return { name: role, ns, wanIp, wanDev: WAN_DEV, link };
  };

  const hub = await attach('hub', plan.wan.hub);
  const sites: SiteNet[] = [];
  for (const sp of plan.sites) {
    const member = await attach(sp.name, sp.wanIp);
    const ns = member.ns;
    await sysctl(h, ns, ['net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
    const podNetwork = (Array.isArray(o.podNetwork) ? o.podNetwork[sp.index - 1] : o.podNetwork) ?? 'bridge';
    const routed = podNetwork === 'routed';
    // Routed: the gateway is a local address of the site (on lo), which it answers ARP for on every veth.
    const podLink = routed ? 'lo' : POD_BRIDGE;
    if (!routed) await ip(ns, 'link', 'add', POD_BRIDGE, 'type', 'bridge');
    await ip(ns, 'addr', 'add', `${sp.gateway}/${routed ? 32 : 24}`, 'dev', podLink);
    await ip(ns, 'link', 'set', podLink, 'up');
    const pods = await Promise.all(
      sp.pods.map(async (pa): Promise<PodNet> => {
        const podNs = await h.addNetns(`s${sp.index}-${pa.name}`);
        const hostVeth = `veth-${pa.name}`;
        await h.mustExec(undefined, ['ip', 'link', 'add', 'eth0', 'netns', podNs, 'type', 'veth', 'peer', 'name', hostVeth, 'netns', ns]);
        if (routed) {
          // The site answers ARP for the gateway (a local address) on every veth and routes each pod to its own veth.
          await ip(ns, 'link', 'set', hostVeth, 'up');
          await ip(ns, 'route', 'add', `${pa.ip}/32`, 'dev', hostVeth);
        } else {
          await ip(ns, 'link', 'set', hostVeth, 'master', POD_BRIDGE, 'up');
        }
        // Routed pods hold a /32 (as calico does): every packet, even to a neighbour pod, goes through the site.
        await ip(podNs, 'addr', 'add', `${pa.ip}/${routed ? 32 : 24}`, 'dev', 'eth0');
        await ip(podNs, 'link', 'set', 'eth0', 'up');
        if (routed) await ip(podNs, 'route', 'add', sp.gateway, 'dev', 'eth0', 'scope', 'link');
        await ip(podNs, 'route', 'add', 'default', 'via', sp.gateway);
        return { name: pa.name, ns: podNs, ip: pa.ip, dev: 'eth0', hostVeth };
      }),
    );
    sites.push({ ...member, index: sp.index, podNetwork, bridge: podLink, podCidr: sp.podCidr, gateway: sp.gateway, pods });
  }
  const clients: WanMember[] = [];
  for (const [j, wanIp] of plan.wan.clients.entries()) clients.push(await attach(`cli${j + 1}`, wanIp));
  const extra: WanMember[] = [];
  for (const m of o.extraMembers) extra.push(await attach(m.role, m.wanIp));

  // The WAN is one flat segment; pod networks are reached through their site's WAN address,
  // so clients and the hub can open connections to services in a site.
  for (const m of [hub, ...sites, ...clients, ...extra]) {
    for (const s of sites) if (s !== m) await ip(m.ns, 'route', 'add', s.podCidr, 'via', s.wanIp);
  }
  return { plan, wan: { ns: wanNs, bridge: WAN_BRIDGE }, hub, sites, clients, extra, netem: netem ?? false };
}
