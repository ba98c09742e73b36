// One demo site, brought up the way a real one comes up, on field-tests/lib's SiteAgent (the
// appliance: its k3s-protocol API server with the site's pods, and weft-agent in the site's
// namespace with the host's bpffs and its own /run/wireguard). Here: the pods' servers, the site
// created on the hub with its location and web service, a one-time provisioning file, then
// `weft-agent run`, which enrolls, brings up its WireGuard tunnel, connects through it and enforces.
import { waitFor } from '../../base/index.ts';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Hub } from '../../hub/index.ts';
import type { SiteHealth } from '../../router/index.ts';
import { SiteAgent, startEchoServer, type Harness, type NsProcess, type SiteNet } from '../../field-tests/lib/index.ts';
import { StartError } from './errors.ts';
import type { HubApi } from './hub-api.ts';
import { DB_PORT, location, WEB_PORT } from './workloads.ts';

const WEB_SERVER = fileURLToPath(new URL('./web-server.mjs', import.meta.url));

export interface DemoSite {
  net: SiteNet;
  id: string;
  name: string;
  appliance: SiteAgent;
  agent: NsProcess;
  /** The address users are sent to (the web pod). */
  webIp: string;
}

const HEALTH_TIMEOUT_MS = 90_000;

/** Waits until the hub's health model has `site` in one of `want` (heartbeats arriving: online or degraded). */
export async function waitForHealth(hub: Hub, site: Pick<DemoSite, 'id' | 'name' | 'agent'>, want: readonly SiteHealth[]): Promise<void> {
  const health = () => hub.sitesView.get(site.id)?.health;
  // Done when healthy, or at once when the agent exits: there is nothing left to wait for.
  await waitFor(() => !site.agent.running || want.includes(health() as SiteHealth), { timeoutMs: HEALTH_TIMEOUT_MS, intervalMs: 200 }).catch(() => undefined);
  if (site.agent.running && want.includes(health() as SiteHealth)) return;
  const why = site.agent.running ? `${health() ?? 'unknown'} after ${HEALTH_TIMEOUT_MS / 1000} s, want ${want.join(' or ')}` : 'its agent exited';
  throw new StartError(
    'START_SITE_FAILED',
    `site ${site.name}: ${why}; agent log:\n${site.agent.logs().slice(-3000)}`,
    'the logs are moved to <data dir>/logs when npm start exits',
  );
}

export async function startSite(h: Harness, hub: Hub, api: HubApi, site: SiteNet): Promise<DemoSite> {
  const appliance = new SiteAgent(h, site);
  const [web, db] = site.pods;
  const server = h.spawn(web.ns, [process.execPath, WEB_SERVER, site.name, String(WEB_PORT)], { name: `web-${site.name}` });
  await Promise.all([appliance.startKube(), server.waitForOutput(/^WEB /m, 30_000), startEchoServer(h, db.ns, { tcpPort: DB_PORT, udpPort: -1 })]);

  const at = location(site.index);
  const created = await api.call<{ id: string }>('POST', '/v1/sites', {
    name: site.name,
    labels: { city: at.city },
    lat: at.lat,
    lon: at.lon,
    services: [{ name: 'web', addresses: [web.ip], url: `http://${web.ip}:${WEB_PORT}` }],
  });
  const token = await api.call<{ provisioning: unknown }>('POST', `/v1/sites/${encodeURIComponent(created.id)}/token`, {});
  // Holds a bearer secret, as on an appliance's boot partition: owner-only.
  writeFileSync(appliance.provisionFile, `${JSON.stringify(token.provisioning, null, 2)}\n`, { mode: 0o600 });

  const demo = { net: site, id: created.id, name: site.name, appliance, agent: appliance.start().proc, webIp: web.ip };
  // Connected and reporting; a site without a policy yet is not ready (degraded) until the rollout.
  await waitForHealth(hub, demo, ['online', 'degraded']);
  return demo;
}
