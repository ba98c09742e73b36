// What `npm start` prints once everything is up: where things are, and commands to try that work
// as printed (scripts/start.test.ts runs them against a live demo).
import { relative } from 'node:path';
import type { Hub } from '../../hub/main.ts';
import type { DemoSite } from './sites.ts';

/** The line a supervisor (or the test) waits for. */
export const READY_LINE = 'weft demo: ready';

export interface BannerInput {
  hub: Hub;
  repoRoot: string;
  sites: DemoSite[];
  /** Why there are no sites (not root), or null. */
  noSitesReason: string | null;
  logsDir: string | null;
  /** Where the logs are moved when the demo stops. */
  keptLogsDir?: string;
}

const rel = (root: string, p: string) => (p.startsWith(root) ? relative(root, p) || '.' : p);

export function banner(b: BannerInput): string {
  const { hub, sites } = b;
  const r = hub.router;
  const dns = r ? `${r.dns.host} port ${r.dns.port}, zone ${r.config.zone}` : 'off';
  const local = hub.httpUrl ?? hub.url;
  const tokenFile = rel(b.repoRoot, hub.adminTokenFile);
  const lines = [
    '',
    'Weft hub',
    `  API         ${hub.url}   (local, plain HTTP: ${local})`,
    `  OpenAPI     ${hub.url}/docs   (${local}/docs)`,
    `  broker      ${hub.broker.url()}`,
    `  router DNS  ${dns}`,
    `  router HTTP ${local}/go/web/`,
    `  admin token ${tokenFile}   (CA fingerprint ${hub.caFingerprint})`,
  ];
  if (sites.length) {
    lines.push('', 'Demo sites (namespace, agent pid, web pod):');
    for (const s of sites) lines.push(`  ${s.id.padEnd(8)} ${s.net.ns}  agent pid ${s.agent.pid}  web ${s.webIp}:8080`);
    if (b.logsDir) lines.push(`  logs: ${b.logsDir}${b.keptLogsDir ? ` (moved to ${rel(b.repoRoot, b.keptLogsDir)} at exit)` : ''}`);
  } else if (b.noSitesReason) {
    lines.push('', b.noSitesReason);
  }
  const weft = 'npm run -s weft --';
  lines.push('', 'Try:', `  ${weft} login --hub ${hub.url} --token-file ${tokenFile} --ca-fingerprint ${hub.caFingerprint}`, `  ${weft} site list`);
  if (sites.length) {
    const s1 = sites[0];
    const dig = r ? `dig @${r.dns.host} -p ${r.dns.port} +short web.${r.config.zone}` : '';
    lines.push(
      `  ${weft} flows --verdict audit            # what the default deny (audit mode) would drop`,
      `  ${weft} policy push scripts/start/demo-policy/enforce -m "enforce the shop's default deny"`,
      `  ${weft} policy rollout <version> --canary ${s1.id} --wait`,
      `  ${weft} flows --verdict deny             # the same flows, now dropped in the kernel`,
      `  ${dig}                                   # users are sent to ${s1.id} (nearest)`,
      `  curl -s -o /dev/null -w '%{redirect_url}\\n' ${local}/go/web/`,
      `  kill ${s1.agent.pid}                     # stop ${s1.id}'s agent, then dig again: ${sites[1]?.id ?? 'no other site'} answers`,
      `  ip netns exec ${s1.net.ns} npm run -s weft-agent -- status --data-dir ${rel(b.repoRoot, s1.dataDir)}`,
      `  ip netns exec ${s1.net.ns} npm run -s weft-agent -- flows --follow --data-dir ${rel(b.repoRoot, s1.dataDir)}`,
    );
  }
  lines.push('', `Ctrl-C stops the demo and removes everything it created. Hub state: ${rel(b.repoRoot, hub.config.dataDir)}`, READY_LINE, '');
  return lines.join('\n');
}
