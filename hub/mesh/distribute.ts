// What the hub tells each site about the sites it is linked with: pure, from the resolved pairs, the
// site records, what each site reported (protocol/mesh.ts MeshReport) and the endpoint the hub's
// WireGuard interface observed for it (its NAT's public address and port). The hub signs and
// publishes the result (mesh-service.ts).
import type { MeshPayload, MeshPeer } from '../../policy/index.ts';
import { mapAddress, mappedPrefix, type MappedPlan, type MeshReport } from '../../protocol/index.ts';
import { peersOf, type SitePair } from './links.ts';

export interface MeshSite {
  id: string;
  wireguardKey: string | null;
  overlayIndex: number | null;
  /** Ops-declared services (SiteSpec.services): reachable by name where an address is inside the export prefix. */
  services: { name: string; addresses: string[] }[];
}

export interface MeshInputs {
  pairs: readonly SitePair[];
  sites: ReadonlyMap<string, MeshSite>;
  reports: ReadonlyMap<string, MeshReport>;
  /** The endpoint the hub's interface last saw each site at (null: none yet). */
  observed: ReadonlyMap<string, string | null>;
  plan: MappedPlan;
  /** A site's overlay host routes by its index (OverlayPlan.hostRoutes). */
  hostRoutes(index: number): string[];
  /** Sites given a content even without link or report (those that had peers: they must hear they have none now). */
  include?: Iterable<string>;
}

export type MeshContent = Omit<MeshPayload, 'generation' | 'issuedAt'>;

function peerEntry(id: string, i: MeshInputs): MeshPeer | null {
  const site = i.sites.get(id);
  if (!site?.wireguardKey || site.overlayIndex === null) return null;
  const block = i.plan.block(site.overlayIndex);
  const report = i.reports.get(id);
  const exp = report?.exportPrefix ?? null;
  const map = (ips: string[]) => (exp ? ips.map((a) => mapAddress(a, exp, block)).filter((a): a is string => a !== null) : []);
  const observed = i.observed.get(id) ?? null;
  const endpoints = [...new Set([...(observed ? [observed] : []), ...(report?.endpoints ?? [])])];
  return {
    siteId: id,
    publicKey: site.wireguardKey,
    endpoints,
    overlay: i.hostRoutes(site.overlayIndex),
    mappedPrefix: block,
    namespaces: report?.namespaces ?? [],
    pods: (report?.pods ?? []).map((p) => ({ ...p, ips: map(p.ips) })).filter((p) => p.ips.length > 0),
    services: site.services.map((s) => ({ name: s.name, ips: map(s.addresses) })).filter((s) => s.ips.length > 0),
  };
}

/**
 * One content per site that is linked or has reported (a site whose last link went away gets an empty
 * peer list, so its peers are removed), keyed by site id.
 */
export function meshContents(i: MeshInputs): Map<string, MeshContent> {
  const out = new Map<string, MeshContent>();
  const ids = new Set<string>([...i.reports.keys(), ...i.pairs.flatMap((p) => [p.a, p.b]), ...(i.include ?? [])]);
  for (const id of [...ids].sort()) {
    const site = i.sites.get(id);
    if (!site || site.overlayIndex === null) continue;
    const exp = i.reports.get(id)?.exportPrefix ?? null;
    const mapped = exp ? mappedPrefix(exp, i.plan.block(site.overlayIndex)) : null;
    out.set(id, {
      kind: 'mesh',
      siteId: id,
      self: exp && mapped ? { exportPrefix: exp, mappedPrefix: mapped } : null,
      peers: peersOf(i.pairs, id)
        .map((p) => peerEntry(p, i))
        .filter((p): p is MeshPeer => p !== null),
    });
  }
  return out;
}
