// Finds the host-side interface of a local pod from its IP: the kernel's own route lookup
// (`ip -j route get <ip>`) names the device a packet to the pod leaves by, which for a CNI that
// routes each pod to its veth (k3s flannel with host-local routes, calico, cilium) is the pod's veth.
// A lookup that goes through a gateway or a shared bridge is not a pod veth and yields null.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

function isVeth(ifname: string): boolean {
  try {
    // A veth has a peer: /sys/class/net/<if>/iflink differs from its own ifindex.
    const own = readFileSync(`/sys/class/net/${ifname}/ifindex`, 'utf8').trim();
    const link = readFileSync(`/sys/class/net/${ifname}/iflink`, 'utf8').trim();
    return own !== link;
  } catch {
    return false;
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
  if (!dev || !isVeth(dev)) return null;
  const ifindex = Number(readFileSync(`/sys/class/net/${dev}/ifindex`, 'utf8').trim());
  return Number.isInteger(ifindex) ? { ifindex, ifname: dev } : null;
};
