// What `npm start` prints once everything is up: where things are, and commands to try that work
// as printed (scripts/start.kernel.test.ts runs them against a live demo).
import { relative } from 'node:path';
import type { Hub } from '../../hub/index.ts';
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
  /** The demo policy's version on the hub (the next push gets the one after). */
  policyVersion?: number;
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
  const tryThese: [string, string][] = [
    [`${weft} login --hub ${hub.url} --token-file ${tokenFile} --ca-fingerprint ${hub.caFingerprint}`, ''],
    [`${weft} site list`, 'sites, their overlay address and the generation they applied'],
  ];
  if (sites.length) {
    const [s1, s2] = sites;
    const agent = (cmd: string) => `ip netns exec ${s1.net.ns} npm run -s weft-agent -- ${cmd} --data-dir ${s1.appliance.dataDir}`;
    tryThese.push(
      [`${weft} flows --verdict audit`, 'what the default deny (audit mode) would drop'],
      [`${weft} policy push scripts/start/demo-policy/enforce -m "enforce the shop's default deny"`, ''],
      [`${weft} policy rollout ${(b.policyVersion ?? 0) + 1} --canary ${s1.id} --wait`, 'the version push printed: canary first, then all'],
      [`${weft} flows --verdict deny`, 'the same flows, now dropped in the kernel'],
    );
    if (r) tryThese.push([`dig @${r.dns.host} -p ${r.dns.port} +short web.${r.config.zone}`, `users are sent to ${s1.id}, the nearest`]);
    tryThese.push(
      [`curl -sL ${local}/go/web/`, "the HTTP redirect, followed to that site's web pod"],
      [`kill ${s1.agent.pid}`, `stop ${s1.id}'s agent, then dig again: ${s2 ? `${s2.id} answers` : 'no healthy site is left, so the router fails open'}`],
      [agent('status'), `the technician's view of ${s1.id}`],
      [agent('flows --follow'), 'verdicts as the agent sees them'],
    );
  }
  // Comments line up after the short commands; long ones just get theirs two spaces after.
  const width = Math.max(...tryThese.map(([cmd]) => cmd.length).filter((n) => n <= 64));
  lines.push('', 'Try:', ...tryThese.map(([cmd, comment]) => `  ${comment ? `${cmd.padEnd(width)}  # ${comment}` : cmd}`));
  lines.push('', `Ctrl-C stops the demo and removes everything it created. Hub state: ${rel(b.repoRoot, hub.config.dataDir)}`, READY_LINE, '');
  return lines.join('\n');
}
