// The fabric's addressing plan, in one place so scenarios and docs agree:
//   WAN      198.18.0.0/24 (RFC 2544 benchmarking space): hub .1, site i .(10+i), client j .(100+j)
//   pods     site i: 10.(100+i).0.0/24, gateway .1 on the site bridge, pod k at .(10+k)
//   overlay  10.99.0.0/24 + fd00:99::/64, hub .1 / ::1; sites get theirs from the hub at enrollment
// Namespaces are isolated, so parallel runs reuse the same plan without clashing.

export const MAX_SITES = 50;
export const MAX_CLIENTS = 50;

export interface PodAddress {
  name: string;
  ip: string;
}

export interface SitePlan {
  index: number;
  name: string;
  wanIp: string;
  podCidr: string;
  gateway: string;
  pods: PodAddress[];
}

export interface AddressPlan {
  wan: { cidr: string; prefixLen: number; hub: string; clients: string[] };
  overlay: { ipv4Prefix: string; ipv6Prefix: string; hubAddresses: string[]; hubPort: number };
  sites: SitePlan[];
}

export interface PlanOptions {
  sites: number;
  podsPerSite: number;
  clients: number;
}

export function addressPlan(o: PlanOptions): AddressPlan {
  const sites: SitePlan[] = [];
  for (let i = 1; i <= o.sites; i++) {
    const net = `10.${100 + i}.0`;
    sites.push({
      index: i,
      name: `site${i}`,
      wanIp: `198.18.0.${10 + i}`,
      podCidr: `${net}.0/24`,
      gateway: `${net}.1`,
      pods: Array.from({ length: o.podsPerSite }, (_, k) => ({ name: `pod${k + 1}`, ip: `${net}.${11 + k}` })),
    });
  }
  return {
    wan: { cidr: '198.18.0.0/24', prefixLen: 24, hub: '198.18.0.1', clients: Array.from({ length: o.clients }, (_, j) => `198.18.0.${101 + j}`) },
    overlay: { ipv4Prefix: '10.99.0.0/24', ipv6Prefix: 'fd00:99::/64', hubAddresses: ['10.99.0.1/24', 'fd00:99::1/64'], hubPort: 51820 },
    sites,
  };
}
