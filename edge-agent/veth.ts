// Finds the host-side interface of a local pod, two ways:
// - from its IP: the kernel's own route lookup (`ip -j route get <ip>`) names the device a packet to the
//   pod leaves by, which for a CNI that routes each pod to its veth (calico, cilium, host-local routes) is
//   the pod's veth. A lookup through a gateway or a shared bridge is not a pod veth and yields nothing.
// - from its network namespace: CNIs that bridge pods (k3s flannel's cni0) leave no per-pod route, so the
//   namespaces under /run/netns are searched for the interface holding the pod IP; its peer index
//   (`link_index`) is the host-side veth, checked both ways before it is trusted.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface HostIface {
  ifindex: number;
  ifname: string;
}

export type VethResolver = (podIp: string) => Promise<HostIface | null>;

interface RouteGet {
  dst?: string;
  gateway?: string;
  dev?: string;
  type?: string;
}

/** Pure part: picks the device from `ip -j route get` output, or null when it is not a direct pod route. */
export function deviceFromRoute(json: string): string | null {
  let routes: RouteGet[];
  try {
    routes = JSON.parse(json) as RouteGet[];
  } catch {
    return null;
  }
  const r = routes[0];
  if (!r?.dev || r.gateway || r.dev === 'lo' || (r.type && r.type !== 'unicast')) return null;
  return r.dev;
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

export const routeVethResolver: VethResolver = async (podIp) => {
  let out: string;
  try {
    out = (await run('ip', ['-j', 'route', 'get', podIp], { timeout: 5000 })).stdout;
  } catch {
    return null;
  }
  const dev = deviceFromRoute(out);
  const veth = dev ? vethByName(dev) : null;
  return veth ? { ifindex: veth.ifindex, ifname: veth.ifname } : null;
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

const ipJson = async <T>(args: string[]): Promise<T[]> => JSON.parse((await run('ip', ['-j', ...args], { timeout: 5000 })).stdout || '[]') as T[];

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
 * Searches the named network namespaces (CNI plugins put pods' there) for the pod IP. One `ip` call per
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
    const podLinks = await Promise.all([...names].map(async (ns) => {
      const nsid = idOf.get(ns);
      if (nsid === undefined) return null; // no veth of ours leads there
      try {
        return { nsid, links: await ipJson<AddrShow>(['-n', ns, 'addr', 'show']) };
      } catch {
        return null; // namespace gone meanwhile, or not ours to read
      }
    }));
    byIp = matchPodVeths(hostVeths, podLinks.filter((p) => p !== null));
  };
  return async (podIp) => {
    const hit = byIp.get(podIp);
    if (hit && vethByName(hit.ifname)?.ifindex === hit.ifindex) return hit;
    if (clock() - scannedAt >= (opts.rescanMs ?? 1000)) await scan();
    return byIp.get(podIp) ?? null;
  };
}

/** Route first (no process per namespace), then the namespaces. */
export function podVethResolver(byNetns: VethResolver = netnsVethResolver()): VethResolver {
  return async (podIp) => (await routeVethResolver(podIp)) ?? byNetns(podIp);
}
