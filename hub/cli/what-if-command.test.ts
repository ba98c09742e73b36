import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleet } from '../testing/fleet.ts';
import { startTestHub, type TestHub } from '../testing/hub-fixture.ts';
import { eventually, type SimAgent } from '../testing/sim-agent.ts';
import { weftIn } from './testing/run-weft.ts';

const CANDIDATE = `apiVersion: v1
kind: Pod
metadata: {name: db, namespace: shop, labels: {app: db}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from: [{ipBlock: {cidr: 10.1.0.0/16}}]
    ports: [{port: 5432, protocol: TCP}]
`;

let t: TestHub;
let agents: Map<string, SimAgent>;
const home = mkdtempSync(join(tmpdir(), 'weft-cli-'));
beforeAll(async () => {
  t = await startTestHub();
  agents = await fleet(t, ['w-1'], () => ({ region: 'eu' }));
});
afterAll(async () => {
  for (const a of agents?.values() ?? []) await a.close();
  await t?.close();
  rmSync(home, { recursive: true, force: true });
});

const weft = (...argv: string[]) => weftIn(home)(...argv);

describe('weft policy what-if', () => {
  it('gives the API answer, and exits 1 when the version would deny a flow allowed today', async () => {
    const tokenFile = join(home, 'token');
    writeFileSync(tokenFile, `${t.admin}\n`, { mode: 0o600 });
    expect((await weft('login', '--hub', t.hub.url, '--token-file', tokenFile, '--ca-fingerprint', t.hub.caFingerprint)).code).toBe(0);
    const at = new Date().toISOString();
    const rec = {
      at,
      generation: 0,
      endpoint: 'shop/db',
      direction: 'ingress' as const,
      verdict: 'allow' as const,
      proto: 6,
      dst: '10.42.0.5',
      sport: 1,
      dport: 5432,
      policy: null,
    };
    await agents.get('w-1')!.events({
      seq: 1,
      at,
      type: 'verdicts',
      verdicts: [
        { ...rec, src: '10.9.0.7' },
        { ...rec, src: '10.1.0.3' },
      ],
    });
    await eventually(async () => (await t.hub.store.telemetry.flows({ siteId: 'w-1', limit: 10 })).length === 2, 'flows stored');
    const v = (await t.api('POST', '/v1/policies', { files: [{ name: 'db.yaml', content: CANDIDATE }], message: 'db from LAN' })).body.version;

    const human = await weft('policy', 'what-if', String(v), '--selector', 'region=eu', '--window', '1h');
    expect(human.code).toBe(1);
    expect(human.out).toContain('would deny, allowed today:\n  NetworkPolicy/shop/db-from-web isolation (1)\n    w-1 10.9.0.7 -> shop/db:5432/TCP seen 1x');
    expect(human.out).toContain('would allow, denied today: none');

    const cli = await weft('policy', 'what-if', String(v), '--selector', 'region=eu', '--window', '1h', '--json');
    const api = await t.api('POST', '/v1/policies/what-if', { version: v, selector: 'region=eu', windowS: 3600 });
    const strip = ({ since: _s, until: _u, ...rest }: Record<string, unknown>) => rest;
    expect(strip(JSON.parse(cli.out))).toEqual(strip(api.body));

    expect((await weft('policy', 'what-if')).code).toBe(2);
    expect((await weft('policy', 'what-if', String(v), '--selector', 'region=mars')).code).not.toBe(0);
  });
});
