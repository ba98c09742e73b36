// The whole system on the fabric: the hub in the hub namespace (with its WireGuard interface,
// broker, API and router), one appliance per site (k3s-protocol API server with the site's pods,
// weft-agent not yet started), each site created on the hub with a location, a client CIDR and
// the service its first pod offers (DNS: its address; HTTP /go/shop: serviceUrl()). The scenarios and `npm start` start from here.
import { errorMessage, errorCode, waitFor as baseWaitFor } from '../../base/index.ts';
import { writeFileSync } from 'node:fs';
import { bundledAgent, checkoutAgent } from './agent-bundle.ts';
import { HarnessError } from './errors.ts';
import { buildFabric } from './fabric.ts';
import type { Fabric, FabricOptions, SiteNet } from './fabric.ts';
import type { Harness } from './harness.ts';
import { HubProcess } from './hub-process.ts';
import { SiteAgent } from './site-agent.ts';

export interface WeftOptions {
  sites: number;
  /** 2..4, default 2. */
  podsPerSite?: number;
  /** default 1; client j is placed at site j (its /32 is in that site's client CIDRs). */
  clients?: number;
  /** DNS zone of the hub's router (default svc.weft.test). */
  zone?: string;
  /** Run the agent as it ships (an esbuild bundle, like the single binary) instead of through the tsx loader (default false). */
  bundledAgent?: boolean;
  /** Pods on the site bridge (default, k3s flannel's layout) or routed to their veths (calico's). */
  podNetwork?: FabricOptions['podNetwork'];
}

export interface WeftFabric {
  fabric: Fabric;
  hub: HubProcess;
  /** By site index - 1; agent ids on the hub are the site names (site1, site2, ...). */
  agents: SiteAgent[];
  zone: string;
  /** The service every site offers: its first pod, answered by the router as <service>.<zone>. */
  service: string;
}

export const SERVICE = 'shop';

/** Where the router's HTTP redirect sends users of a site: its first pod, port 7000. */
export function serviceUrl(site: SiteNet): string {
  return `http://${site.pods[0].ip}:7000/`;
}

/** Builds the fabric and starts hub and site API servers. */
export async function startWeft(h: Harness, o: WeftOptions): Promise<WeftFabric> {
  const zone = o.zone ?? 'svc.weft.test';
  const fabric = await buildFabric(h, { sites: o.sites, podsPerSite: o.podsPerSite, clients: o.clients, podNetwork: o.podNetwork });
  const [entry, hub] = await Promise.all([o.bundledAgent ? bundledAgent(h) : checkoutAgent(), HubProcess.start(h, fabric, { zone })]);
  const agents = fabric.sites.map((s) => new SiteAgent(h, s, entry));
  await Promise.all(agents.map((a) => a.startKube()));
  for (const s of fabric.sites) {
    const client = fabric.clients[s.index - 1];
    // Sites one degree of latitude apart: site1 is nearest to client1, site2 next, and so on.
    await hub.call('POST', '/v1/sites', {
      name: s.name,
      lat: 48 + s.index,
      lon: 11,
      capacity: 100,
      clientCidrs: client ? [`${client.wanIp}/32`] : [],
      services: [{ name: SERVICE, addresses: [s.pods[0].ip], url: serviceUrl(s) }],
    });
  }
  return { fabric, hub, agents, zone, service: SERVICE };
}

/** Issues a one-time token and drops the provisioning file where the agent looks for it; returns the file's content. */
export async function provision(hub: HubProcess, agent: SiteAgent): Promise<Record<string, unknown>> {
  const r = await hub.call<{ provisioning: Record<string, unknown> }>('POST', `/v1/sites/${agent.site.name}/token`, {});
  writeFileSync(agent.provisionFile, `${JSON.stringify(r.provisioning, null, 2)}\n`, { mode: 0o600 });
  return r.provisioning;
}

/** Polls `fn` until it returns something other than undefined/null/false; throws HARNESS_TIMEOUT naming `what` and the last value seen. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000, intervalMs = 250): Promise<T> {
  try {
    return (await baseWaitFor(fn, { what, timeoutMs, intervalMs, retryErrors: true })) as T;
  } catch (e) {
    if (errorCode(e) !== 'WAIT_TIMEOUT') throw e;
    throw new HarnessError('HARNESS_TIMEOUT', `${what}: ${errorMessage(e)}`);
  }
}
