// Finds the host-side interfaces of local pods, for a whole inventory at once (a node may hold hundreds of
// pods: a process per pod would take seconds), two ways:
// - from their IPs: one dump of the routing tables, matched the way the kernel would (local table first,
//   then the longest prefix in main), names the device a packet to each pod leaves by. For a CNI that
//   routes each pod to its veth (calico, cilium, host-local routes) that is the pod's veth; a route
//   through a gateway, a shared bridge or a local address is not a pod veth and yields nothing.
// - from their network namespaces: CNIs that bridge pods (k3s flannel's cni0) leave no per-pod route, so
//   the namespaces under /run/netns are searched for the interfaces holding the pod IPs; the peer index
//   (`link_index`) is the host-side veth, checked both ways before it is trusted.
import { readdirSync, readFileSync } from 'node:fs';
import { bitsOf, parseCidr, parseIp, run, type Cidr } from '../base/index.ts';

export interface HostIface {
  ifindex: number;
  ifname: string;
}

/** The host interfaces of the given pod IPs; an IP with no pod veth is absent from the answer. */
export type VethResolver = (podIps: readonly string[]) => Promise<Map<string, HostIface>>;

/** One entry of `ip -j route show table all`. */
export interface RouteEntry {
  dst?: string;
  gateway?: string;
  dev?: string;
  type?: string;
  table?: string;
  metric?: number;
}

/** Routes of one table by prefix length, longest first, for a longest-prefix match. */
class PrefixTable {
  private readonly byLen = new Map<number, Map<bigint, RouteEntry>>();
  private lens: number[] = [];

  add(c: Cidr, r: RouteEntry): void {
    let at = this.byLen.get(c.len);
    if (!at) {
      this.byLen.set(c.len, (at = new Map()));
      this.lens = [...this.byLen.keys()].sort((a, b) => b - a);
    }
    const had = at.get(c.base);
    if (!had || (r.metric ?? 0) < (had.metric ?? 0)) at.set(c.base, r);
  }

  match(value: bigint, bits: number): RouteEntry | undefined {
    for (const len of this.lens) {
      const base = len === 0 ? 0n : (value >> BigInt(bits - len)) << BigInt(bits - len);
      const r = this.byLen.get(len)?.get(base);
      if (r) return r;
    }
    return undefined;
  }
}

/**
 * Pure part: the device each pod IP is routed to, from a route dump of both families. An IP that is a
 * local address, routed through a gateway, to `lo`, or by a non-unicast route maps to nothing.
 */
export function podDevices(routes: readonly RouteEntry[], podIps: readonly string[]): Map<string, string> {
  const tables = { local: { 4: new PrefixTable(), 6: new PrefixTable() }, main: { 4: new PrefixTable(), 6: new PrefixTable() } };
  for (const r of routes) {
    const which = r.table === undefined || r.table === 'main' ? 'main' : r.table === 'local' ? 'local' : null;
    if (!which || !r.dst) continue;
    const fam = r.dst.includes(':') ? 6 : 4;
    const c = parseCidr(r.dst === 'default' ? (fam === 6 ? '::/0' : '0.0.0.0/0') : r.dst.includes('/') ? r.dst : `${r.dst}/${bitsOf(fam)}`);
    if (c) tables[which][c.family].add(c, r);
  }
  const out = new Map<string, string>();
  for (const s of podIps) {
    const ip = parseIp(s);
    if (!ip) continue;
    const bits = bitsOf(ip.family);
    if (tables.local[ip.family].match(ip.value, bits)?.type === 'local') continue;
    const r = tables.main[ip.family].match(ip.value, bits);
    if (!r?.dev || r.gateway || r.dev === 'lo' || (r.type && r.type !== 'unicast')) continue;
    out.set(s, r.dev);
  }
  return out;
}

const sysNet = (ifname: string, attr: string) => Number(readFileSync(`/sys/class/net/${ifname}/${attr}`, 'utf8').trim());

/** A host interface that is one end of a veth pair: it has a peer (iflink differs from its own ifindex). */
function vethByName(ifname: string): (HostIface & { peer: number }) | null {
  try {
    const ifindex = sysNet(ifname, 'ifindex');
    const peer = sysNet(ifname, 'iflink');
    return Number.isInteger(ifindex) && ifindex !== peer ? { ifindex, ifname, peer } : null;
  } catch {
    return null;
  }
}

const ipJson = async <T>(args: string[]): Promise<T[]> => JSON.parse((await run(['ip', '-j', ...args], { timeoutMs: 5000 })).stdout || '[]') as T[];

/** Two `ip` calls whatever the number of pods: both families' routing tables, matched in process. */
export const routeVethResolver: VethResolver = async (podIps) => {
  const found = new Map<string, HostIface>();
  if (podIps.length === 0) return found;
  let routes: RouteEntry[];
  try {
    routes = [...(await ipJson<RouteEntry>(['-4', 'route', 'show', 'table', 'all'])), ...(await ipJson<RouteEntry>(['-6', 'route', 'show', 'table', 'all']))];
  } catch {
    return found; // no iproute2: the namespace search may still find them
  }
  for (const [ip, dev] of podDevices(routes, podIps)) {
    const veth = vethByName(dev);
    if (veth) found.set(ip, { ifindex: veth.ifindex, ifname: veth.ifname });
  }
  return found;
};

interface AddrShow {
  ifindex: number;
  ifname: string;
  link_index?: number;
  addr_info?: { local?: string }[];
}

interface HostVeth {
  ifindex: number;
  ifname: string;
  link_index?: number;
  link_netnsid?: number;
}

interface NetnsEntry {
  name: string;
  id?: number;
}

/**
 * Pure part: pairs pod interfaces with host veths. Interface indexes are per namespace (every pod's eth0
 * is 2), so an index match alone can pair a pod with another node's veth; the host veth's peer namespace
 * id (`link_netnsid`) must also be the scanned namespace's id.
 */
export function matchPodVeths(hostVeths: HostVeth[], podLinks: { nsid: number; links: AddrShow[] }[]): Map<string, HostIface> {
  const byIp = new Map<string, HostIface>();
  for (const { nsid, links } of podLinks) {
    for (const link of links) {
      const host = hostVeths.find((h) => h.link_netnsid === nsid && h.link_index === link.ifindex && link.link_index === h.ifindex);
      if (!host) continue;
      for (const a of link.addr_info ?? []) if (a.local) byIp.set(a.local, { ifindex: host.ifindex, ifname: host.ifname });
    }
  }
  return byIp;
}

/**
 * Searches the named network namespaces (CNI plugins put pods' there) for the pod IPs. One `ip` call per
 * namespace, so the answers are cached: a miss rescans at most once per `rescanMs`.
 */
export function netnsVethResolver(opts: { dirs?: string[]; rescanMs?: number; clock?: () => number } = {}): VethResolver {
  const dirs = opts.dirs ?? ['/run/netns', '/var/run/netns'];
  const clock = opts.clock ?? Date.now;
  let byIp = new Map<string, HostIface>();
  let scannedAt = -Infinity;
  const scan = async () => {
    scannedAt = clock();
    const names = new Set<string>();
    for (const d of dirs) {
      try {
        for (const n of readdirSync(d)) names.add(n);
      } catch {
        // Directory absent: no named namespaces there.
      }
    }
    let hostVeths: HostVeth[];
    let ids: NetnsEntry[];
    try {
      // The link dump first: it makes the kernel assign ids to the peers' namespaces that netns list shows.
      hostVeths = await ipJson<HostVeth>(['link', 'show', 'type', 'veth']);
      ids = await ipJson<NetnsEntry>(['netns', 'list']);
    } catch {
      return; // no iproute2 or no netns support: nothing to find
    }
    const idOf = new Map(ids.filter((e) => e.id !== undefined).map((e) => [e.name, e.id as number]));
    // Eight `ip` processes at a time: a node with a hundred pods does not fork a hundred at once.
    const podLinks: { nsid: number; links: AddrShow[] }[] = [];
    const queue = [...names];
    await Promise.all(
      Array.from({ length: Math.min(8, queue.length) }, async () => {
        for (let ns = queue.shift(); ns !== undefined; ns = queue.shift()) {
          const nsid = idOf.get(ns);
          if (nsid === undefined) continue; // no veth of ours leads there
          try {
            podLinks.push({ nsid, links: await ipJson<AddrShow>(['-n', ns, 'addr', 'show']) });
          } catch {
            // namespace gone meanwhile, or not ours to read
          }
        }
      }),
    );
    byIp = matchPodVeths(hostVeths, podLinks);
  };
  const lookup = (podIps: readonly string[]) => {
    const found = new Map<string, HostIface>();
    for (const ip of podIps) {
      const hit = byIp.get(ip);
      if (hit && vethByName(hit.ifname)?.ifindex === hit.ifindex) found.set(ip, hit);
    }
    return found;
  };
  return async (podIps) => {
    const found = lookup(podIps);
    if (found.size === podIps.length || clock() - scannedAt < (opts.rescanMs ?? 1000)) return found;
    await scan();
    return lookup(podIps);
  };
}

/** Routes first (no process per namespace), then the namespaces for the pods the routes did not name. */
export function podVethResolver(byNetns: VethResolver = netnsVethResolver()): VethResolver {
  return async (podIps) => {
    const found = await routeVethResolver(podIps);
    const rest = podIps.filter((ip) => !found.has(ip));
    if (rest.length) for (const [ip, h] of await byNetns(rest)) found.set(ip, h);
    return found;
  };
}
