// One demo site, brought up the way a real one comes up: its k3s API (the fake API server speaking
// the real protocol) with the site's pods, the pods' servers, the site created on the hub and a
// one-time provisioning file, then the real agent (`weft-agent run`) in the site's namespace, which
// enrolls, brings up its WireGuard tunnel, connects to the broker through it and enforces.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hub } from '../../hub/main.ts';
import type { SiteHealth } from '../../hub/sites-view.ts';
import { startEchoServer, type Harness, type NsProcess, type SiteNet } from '../../field-tests/lib/index.ts';
import { REPO_ROOT, tsEntry } from '../../field-tests/lib/repo.ts';
import type { StartOptions } from './args.ts';
import { StartError } from './errors.ts';
import type { HubApi } from './hub-api.ts';
import { DB_PORT, kubeObjects, location, WEB_PORT } from './workloads.ts';

const WEB_SERVER = fileURLToPath(new URL('./web-server.mjs', import.meta.url));

export interface DemoSite {
  net: SiteNet;
  id: string;
  name: string;
  dataDir: string;
  agent: NsProcess;
  /** The address users are sent to (the web pod). */
  webIp: string;
}

const HEALTH_TIMEOUT_MS = 90_000;

async function startKubeApi(h: Harness, site: SiteNet, dir: string): Promise<string> {
  const objects = join(dir, 'k3s-objects.json');
  const kubeconfig = join(dir, 'kubeconfig.yaml');
  writeFileSync(objects, JSON.stringify({ kind: 'List', items: kubeObjects(site) }));
  const proc = h.spawn(site.ns, [...tsEntry('edge-agent/kube/fake-apiserver-main.ts'), '--objects', objects, '--kubeconfig', kubeconfig, '--json'], { name: `k3s-${site.name}`, cwd: REPO_ROOT });
  await proc.waitForOutput(/"url"/, 60_000);
  return kubeconfig;
}

/** Waits until the hub's health model has `site` in one of `want` (heartbeats arriving: online or degraded). */
export async function waitForHealth(hub: Hub, site: DemoSite, want: readonly SiteHealth[]): Promise<void> {
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  for (;;) {
    const health = hub.sitesView.get(site.id)?.health;
    if (health && want.includes(health)) return;
    if (!site.agent.running || Date.now() > deadline) {
      const why = site.agent.running ? `${health ?? 'unknown'} after ${HEALTH_TIMEOUT_MS / 1000} s, want ${want.join(' or ')}` : 'its agent exited';
      throw new StartError('START_SITE_FAILED', `site ${site.name}: ${why}; agent log:\n${site.agent.logs().slice(-3000)}`, 'the logs are copied to <data dir>/logs when npm start exits');
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function startSite(h: Harness, o: StartOptions, hub: Hub, api: HubApi, site: SiteNet): Promise<DemoSite> {
  const dir = join(o.dataDir, 'sites', site.name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const kubeconfig = await startKubeApi(h, site, dir);
  const [web, db] = site.pods;
  const server = h.spawn(web.ns, [process.execPath, WEB_SERVER, site.name, String(WEB_PORT)], { name: `web-${site.name}` });
  await Promise.all([server.waitForOutput(/^WEB /m, 30_000), startEchoServer(h, db.ns, { tcpPort: DB_PORT, udpPort: -1 })]);

  const webIp = web.ip;
  const at = location(site.index);
  const created = await api.call<{ id: string }>('POST', '/v1/sites', {
    name: site.name, labels: { city: at.city }, lat: at.lat, lon: at.lon,
    services: [{ name: 'web', addresses: [webIp], url: `http://${webIp}:${WEB_PORT}` }],
  });
  const token = await api.call<{ provisioning: unknown }>('POST', `/v1/sites/${encodeURIComponent(created.id)}/token`, {});
  const provisionFile = join(dir, 'weft-provision.json');
  writeFileSync(provisionFile, `${JSON.stringify(token.provisioning, null, 2)}\n`, { mode: 0o600 });

  const agent = h.spawn(site.ns, [
    process.execPath, join(REPO_ROOT, 'bin', 'weft-agent.mjs'), 'run', '--data-dir', dir, '--provision-file', provisionFile,
    '--kubeconfig', kubeconfig, '--node-name', site.name, '--tunnel-ifname', h.names.wgIfname(`s${site.index}`),
    '--pin-root', `/sys/fs/bpf/${h.names.prefix}${site.name}`, '--log-level', o.logLevel === 'silent' ? 'silent' : 'info',
  ], { name: `agent-${site.name}`, cwd: REPO_ROOT });
  const demo = { net: site, id: created.id, name: site.name, dataDir: dir, agent, webIp };
  // Connected and reporting; a site without a policy yet is not ready (degraded) until the rollout.
  await waitForHealth(hub, demo, ['online', 'degraded']);
  return demo;
}
