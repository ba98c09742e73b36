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

function vethByIndex(ifindex: number): (HostIface & { peer: number }) | null {
  try {
    for (const name of readdirSync('/sys/class/net')) if (sysNet(name, 'ifindex') === ifindex) return vethByName(name);
  } catch {
    // No sysfs: nothing to find.
  }
  return null;
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
    const next = new Map<string, HostIface>();
    await Promise.all([...names].map(async (ns) => {
      let out: string;
      try {
        out = (await run('ip', ['-n', ns, '-j', 'addr', 'show'], { timeout: 5000 })).stdout;
      } catch {
        return; // namespace gone meanwhile, or not ours to read
      }
      for (const link of JSON.parse(out) as AddrShow[]) {
        if (link.link_index === undefined) continue;
        const host = vethByIndex(link.link_index);
        // Trust it only both ways: the host veth's peer is this very pod interface.
        if (!host || host.peer !== link.ifindex) continue;
        for (const a of link.addr_info ?? []) if (a.local) next.set(a.local, { ifindex: host.ifindex, ifname: host.ifname });
      }
    }));
    byIp = next;
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
