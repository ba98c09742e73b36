// FQDN egress in the field (issue 18): one site with its real agent (the bundled one, as shipped),
// Debian's knotd in the site namespace as the pods' resolver (test names, 1 s TTLs), three clients on
// the WAN as the "SaaS" servers. A ClusterNetworkPolicy lets pod web reach allowed.weft.test and
// *.api.weft.test on TCP 7000 by name, its resolver on port 53, and denies everything else. With the
// hub cut off, pod web resolves and connects every 100 ms to the allowed name and to a name not
// allowed, while the agent is kill -9'd `restarts` times. Then the allowed name moves to another
// address: the new one is followed at once, the old one is denied once its TTL (and grace) ran out.
// field-tests/fqdn.kernel.test.ts asserts on the result; bench/fqdn.ts reports it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { probe, startEchoServer } from './connectivity.ts';
import type { Harness } from './harness.ts';
import type { NsProcess } from './ns-process.ts';
import { provision, startWeft, waitFor } from './weft-fabric.ts';
import type { SiteAgent } from './site-agent.ts';

const PROBE = fileURLToPath(new URL('./fqdn-probe.mjs', import.meta.url));
export const SAAS_PORT = 7000;
export const ZONE = 'weft.test';
const ZONE_TTL = 1;

export interface FqdnRunOptions {
  restarts: number;
  /** Attempts are started this often, per name (default 100 ms). */
  intervalMs?: number;
  /** Agent settings: minimum TTL and grace of learned addresses (seconds). */
  minTtlS?: number;
  graceS?: number;
  log?: (m: string) => void;
}

export interface ProbeLine {
  at: number;
  name: string;
  addr: string | null;
  outcome: string;
  dnsMs: number;
  answerToConnectMs: number | null;
  error?: string;
}

export interface FqdnRunResult {
  restarts: number;
  allowedAttempts: number;
  failedAllowed: number;
  deniedAttempts: number;
  passedDenied: number;
  /** DNS answer received by the pod -> its connection to the answer's address established and echoed. */
  answerToAllowMs: { p50: number; p99: number };
  /** Agent kill -9 -> "enforcing" again (ms), per restart. */
  restartToEnforcingMs: { p50: number; p99: number };
  failures: ProbeLine[];
  addressChange: { newAddressConnected: number; newAddressAttempts: number; oldAddressAfterExpiry: string; oldAddressBeforeChange: string };
  durationS: number;
}

export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

function policyYaml(resolver: string): string {
  return `apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: { name: saas-by-name }
spec:
  tier: Admin
  priority: 10
  subject: { pods: { namespaceSelector: {}, podSelector: { matchLabels: { app: web } } } }
  egress:
  - { name: dns, action: Accept, to: [{ networks: ["${resolver}/32"] }], protocols: [{ udp: { destinationPort: { number: 53 } } }, { tcp: { destinationPort: { number: 53 } } }] }
  - { name: saas, action: Accept, to: [{ domainNames: [allowed.${ZONE}, "*.api.${ZONE}"] }], protocols: [{ tcp: { destinationPort: { number: ${SAAS_PORT} } } }] }
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: { name: deny-the-rest }
spec:
  tier: Admin
  priority: 20
  subject: { pods: { namespaceSelector: {}, podSelector: { matchLabels: { app: web } } } }
  egress:
  - { name: rest, action: Deny, to: [{ networks: ["0.0.0.0/0"] }] }
`;
}

/** knotd in the site namespace, answering for weft.test on the pods' gateway address. */
class Resolver {
  private proc: NsProcess | undefined;
  constructor(
    private readonly h: Harness,
    private readonly ns: string,
    private readonly dir: string,
    private readonly listen: string,
  ) {
    mkdirSync(join(dir, 'db'), { recursive: true });
    writeFileSync(
      join(dir, 'knot.conf'),
      [
        'server:',
        `    listen: ${listen}@53`,
        `    rundir: ${dir}`,
        'database:',
        `    storage: ${join(dir, 'db')}`,
        'log:',
        '  - target: stderr',
        '    any: info',
        'zone:',
        `  - domain: ${ZONE}`,
        `    file: ${join(dir, 'zone')}`,
        '    zonefile-sync: -1',
        '    journal-content: none',
        '',
      ].join('\n'),
    );
  }

  /** (Re)starts knotd with these records (name -> address), all with the zone's short TTL. */
  async serve(records: Record<string, string>, serial: number): Promise<void> {
    writeFileSync(
      join(this.dir, 'zone'),
      [
        `$ORIGIN ${ZONE}.`,
        `@ ${ZONE_TTL} IN SOA ns1 hostmaster ${serial} 3600 600 604800 ${ZONE_TTL}`,
        `@ ${ZONE_TTL} IN NS ns1`,
        `ns1 ${ZONE_TTL} IN A ${this.listen}`,
        ...Object.entries(records).map(([n, a]) => `${n} ${ZONE_TTL} IN A ${a}`),
        '',
      ].join('\n'),
    );
    await this.proc?.kill('SIGTERM');
    this.proc = this.h.spawn(this.ns, ['knotd', '-c', join(this.dir, 'knot.conf')], { name: 'knotd' });
    await this.proc.waitForOutput(/loaded, serial|server started/, 20_000);
    await this.proc.waitForOutput(new RegExp(`\\[${ZONE.replace('.', '\\.')}\\.\\] .*loaded`), 20_000).catch(() => undefined);
  }
}

/** A probe process in a pod namespace, collecting its JSON lines. */
function startProbe(
  h: Harness,
  ns: string,
  resolver: string,
  name: string,
  intervalMs: number,
  timeoutMs: number,
): { lines: ProbeLine[]; stop: () => Promise<void> } {
  const lines: ProbeLine[] = [];
  const proc = h.spawn(ns, [process.execPath, PROBE, resolver, name, String(SAAS_PORT), String(intervalMs), String(timeoutMs)], {
    name: `fqdn-probe-${name}`,
    stdin: true,
  });
  proc.onStdoutLine((l) => {
    if (l.startsWith('{')) lines.push(JSON.parse(l) as ProbeLine);
  });
  return {
    lines,
    stop: async () => {
      proc.write('stop\n');
      await proc.kill('SIGTERM', 5000).catch(() => undefined);
    },
  };
}

export async function runFqdnScenario(h: Harness, o: FqdnRunOptions): Promise<FqdnRunResult> {
  const log = o.log ?? (() => undefined);
  const interval = o.intervalMs ?? 100;
  const started = Date.now();
  const w = await startWeft(h, { sites: 1, podsPerSite: 2, clients: 3, bundledAgent: true });
  const [agent] = w.agents;
  const site = agent.site;
  const [c1, c2, c3] = w.fabric.clients;
  await Promise.all([c1, c2, c3].map((c) => startEchoServer(h, c.ns, { tcpPort: SAAS_PORT, udpPort: -1 })));
  const resolver = new Resolver(h, site.ns, join(h.dir, 'knot'), site.gateway);
  await resolver.serve({ allowed: c1.wanIp, denied: c2.wanIp, 'x.api': c1.wanIp }, 1);
  log('fabric, resolver and servers up');

  agent.runArgs = ['--fqdn-min-ttl-s', String(o.minTtlS ?? 1), '--fqdn-grace-s', String(o.graceS ?? 1)];
  await provision(w.hub, agent);
  agent.start();
  await waitFor('the site connects to the broker', async () => (await w.hub.control<string[]>({ op: 'connected' })).length === 1, 120_000, 500);
  await waitFor(
    'the agent attaches its pods',
    async () => (await agent.cliJson<{ status: { pods: { attached: number } } }>(['status'])).json.status.pods.attached === site.pods.length,
    90_000,
    1000,
  );
  const { version } = await w.hub.call<{ version: number }>('POST', '/v1/policies', {
    files: [{ name: 'saas.yaml', content: policyYaml(site.gateway) }],
    message: 'SaaS by name',
  });
  await w.hub.call('POST', '/v1/rollouts', { version });
  await waitFor(
    'the site applies the FQDN policy',
    async () => {
      const v = await w.hub.call<{ generation: number; lastAck: { generation: number; result: string } | null }>('GET', `/v1/sites/${site.name}`);
      return v.generation > 0 && v.lastAck?.generation === v.generation && v.lastAck.result === 'applied';
    },
    90_000,
  );
  log('policy applied; cutting the hub off');
  await w.fabric.hub.link.partition();

  const web = site.pods[0].ns;
  const allowed = startProbe(h, web, site.gateway, `allowed.${ZONE}`, interval, 2000);
  const denied = startProbe(h, web, site.gateway, `denied.${ZONE}`, interval, 500);
  const wildcard = startProbe(h, web, site.gateway, `x.api.${ZONE}`, interval * 5, 2000);
  const restartMs: number[] = [];
  for (let i = 0; i < o.restarts; i++) {
    await agent.proc?.kill('SIGKILL');
    const t0 = Date.now();
    const s = agent.start();
    await s.proc.waitForOutput(/"msg":"enforcing"/, 60_000);
    restartMs.push(Date.now() - t0);
    if ((i + 1) % 10 === 0) log(`${i + 1} restarts; allowed ${allowed.lines.length}, denied ${denied.lines.length}`);
  }
  await new Promise((r) => setTimeout(r, 1000));
  await Promise.all([allowed.stop(), denied.stop(), wildcard.stop()]);

  // The address moves: the new one is followed at once, the old one denied once expired.
  const before = await probe(h, web, { host: c1.wanIp, port: SAAS_PORT, timeoutMs: 2000 });
  await resolver.serve({ allowed: c3.wanIp, denied: c2.wanIp, 'x.api': c1.wanIp }, 2);
  const moved = startProbe(h, web, site.gateway, `allowed.${ZONE}`, interval, 2000);
  await new Promise((r) => setTimeout(r, 2000));
  await moved.stop();
  const onNew = moved.lines.filter((l) => l.addr === c3.wanIp);
  // Old answer: TTL 1 s, learned for max(1, minTtl) + grace; the wildcard name (on c1 too) is not asked anymore.
  await new Promise((r) => setTimeout(r, ((o.minTtlS ?? 1) + (o.graceS ?? 1) + 1) * 1000));
  const after = await probe(h, web, { host: c1.wanIp, port: SAAS_PORT, timeoutMs: 1500 });

  const allowedLines = [...allowed.lines, ...wildcard.lines];
  const failures = [...allowedLines.filter((l) => l.outcome !== 'connected'), ...denied.lines.filter((l) => l.outcome === 'connected')];
  const a2c = allowedLines.flatMap((l) => (l.answerToConnectMs !== null ? [l.answerToConnectMs] : []));
  return {
    restarts: restartMs.length,
    allowedAttempts: allowedLines.length,
    failedAllowed: allowedLines.filter((l) => l.outcome !== 'connected').length,
    deniedAttempts: denied.lines.length,
    passedDenied: denied.lines.filter((l) => l.outcome === 'connected').length,
    answerToAllowMs: { p50: round(percentile(a2c, 50)), p99: round(percentile(a2c, 99)) },
    restartToEnforcingMs: { p50: percentile(restartMs, 50), p99: percentile(restartMs, 99) },
    failures: failures.slice(0, 20),
    addressChange: {
      newAddressConnected: onNew.filter((l) => l.outcome === 'connected').length,
      newAddressAttempts: moved.lines.length,
      oldAddressBeforeChange: before.outcome,
      oldAddressAfterExpiry: after.outcome,
    },
    durationS: Math.round((Date.now() - started) / 1000),
  };
}

const round = (x: number) => Math.round(x * 100) / 100;

export type { SiteAgent };
