import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EnrollResponse } from '../../protocol/index.ts';
import { startTestHub, type TestHub } from '../testing/hub-fixture.ts';
import { deviceKeys, enrollRequest, eventually, SimAgent } from '../testing/sim-agent.ts';
import { weftIn } from './testing/run-weft.ts';

let t: TestHub;
const home = mkdtempSync(join(tmpdir(), 'weft-cli-'));
const agents: SimAgent[] = [];
beforeAll(async () => {
  t = await startTestHub();
});
afterAll(async () => {
  for (const a of agents) await a.close();
  await t?.close();
  rmSync(home, { recursive: true, force: true });
});

const weft = (...argv: string[]) => weftIn(home)(...argv);
const json = async (...argv: string[]) => {
  const r = await weft(...argv, '--json');
  return { ...r, data: JSON.parse(r.out) };
};

const DENY_ALL = `apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {namespaces: {}}
  ingress:
  - {name: deny-all, action: Deny, from: [{namespaces: {}}]}
`;

describe('weft ops CLI', () => {
  it('refuses to log in to a hub whose CA fingerprint differs, and logs in (0600 credentials) when it matches', async () => {
    const tokenFile = join(home, 'token');
    writeFileSync(tokenFile, `${t.admin}\n`, { mode: 0o600 });
    const wrong = await weft('login', '--hub', t.hub.url, '--token-file', tokenFile, '--ca-fingerprint', '00'.repeat(32));
    expect(wrong.code).toBe(1);
    expect(wrong.err).toContain('wrong hub or someone in between');
    expect((await weft('site', 'list')).code).toBe(2);
    const ok = await weft('login', '--hub', t.hub.url, '--token-file', tokenFile, '--ca-fingerprint', t.hub.caFingerprint);
    expect(ok).toMatchObject({ code: 0, out: expect.stringContaining('as bootstrap-admin (admin)') });
    const cred = join(home, 'config', 'weft', 'credentials');
    expect(statSync(cred).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(cred, 'utf8'))).toMatchObject({ hub: t.hub.url, token: t.admin, caPem: t.hub.caCertPem });
  });

  it('runs the zero-trust workflow: site, provisioning file, push, canary, expand, flows, rollback, revoke', async () => {
    expect((await weft('site', 'create', 'store-1', '--label', 'region=eu', '--lat', '52.5', '--lon', '13.4', '--service', 'pos=10.1.0.5')).code).toBe(0);
    expect((await weft('site', 'create', 'store-2', '--label', 'region=eu')).code).toBe(0);
    const prov = join(home, 'weft-provision.json');
    expect((await weft('site', 'token', 'store-1', '--ttl', '2h', '--provision-file', prov)).code).toBe(0);
    expect(statSync(prov).mode & 0o777).toBe(0o600);
    const file = JSON.parse(readFileSync(prov, 'utf8'));
    expect(file).toMatchObject({ v: 1, siteName: 'store-1', caFingerprint: t.hub.caFingerprint });
    // A device enrolls with what the provisioning file holds.
    for (const [name, token] of [
      ['store-1', file.token],
      ['store-2', (await json('site', 'token', 'store-2')).data.token],
    ]) {
      const r = await t.api<EnrollResponse>('POST', '/v1/enroll', enrollRequest(name, deviceKeys(), token), null);
      agents.push(await SimAgent.connect(t.hub.broker.url(), r.body));
    }
    const list = await json('site', 'list');
    expect(list.data.map((s: { id: string; state: string }) => [s.id, s.state])).toEqual([
      ['store-1', 'enrolled'],
      ['store-2', 'enrolled'],
    ]);

    // Invalid policy: exit 2 with file, document and path of every error.
    const dir = mkdtempSync(join(home, 'pol-'));
    writeFileSync(join(dir, 'bad.yaml'), DENY_ALL.replace('action: Deny', 'action: Maybe'));
    const bad = await weft('policy', 'push', dir, '-m', 'broken');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/bad\.yaml#1 spec\.ingress\[0\]\.action: .*\(POLICY_/);

    writeFileSync(join(dir, 'bad.yaml'), DENY_ALL.replace('metadata: {name: default}', 'metadata: {name: default, annotations: {weft.dev/mode: audit}}'));
    const first = await json('policy', 'push', dir, '-m', 'audit first');
    expect(first.data.warnings.map((w: { code: string }) => w.code)).toEqual(['POLICY_DEPRECATED_KIND']);
    const v1 = first.data.version;
    expect(v1).toBeGreaterThan(0);
    writeFileSync(join(dir, 'bad.yaml'), DENY_ALL);
    const pushed = await weft('policy', 'push', dir, '-m', 'default deny');
    expect(pushed.out).toMatch(/warning: \S*bad\.yaml#1 kind: BaselineAdminNetworkPolicy \(v1alpha1\) is deprecated/);
    const v2 = Number(/pushed version (\d+)/.exec(pushed.out)?.[1]);
    // The deprecated BANP is stored as the ClusterNetworkPolicy it translates to: history speaks the new kind.
    expect((await weft('policy', 'diff', String(v1), String(v2))).out).toContain('changed ClusterNetworkPolicy/default');
    expect((await json('policy', 'history')).data.map((h: { message: string }) => h.message)).toEqual(['default deny', 'audit first']);

    const r1 = await json('policy', 'rollout', String(v1), '--selector', 'region=eu', '--wait', '--timeout', '30s');
    expect(r1).toMatchObject({ code: 0, data: { rollout: { state: 'completed' } } });
    const r2 = await weft('policy', 'rollout', String(v2), '--canary', 'store-1', '--stages', '50', '--wait', '--timeout', '30s');
    expect(r2.code).toBe(0);
    expect(r2.out).toMatch(/0:canary\s+store-1\s+\d+\s+applied/);
    expect((await json('policy', 'status')).data.rollout).toMatchObject({ state: 'completed', policyVersion: v2 });

    await agents[0].events({
      seq: 1,
      at: new Date().toISOString(),
      type: 'verdicts',
      verdicts: [
        {
          at: new Date().toISOString(),
          generation: 2,
          endpoint: 'shop/db',
          direction: 'ingress',
          verdict: 'deny',
          proto: 6,
          src: '10.0.0.9',
          dst: '10.0.0.2',
          sport: 5555,
          dport: 5432,
          policy: { kind: 'ClusterNetworkPolicy', tier: 'Baseline', name: 'default', rule: 'ingress[0]', ruleName: 'deny-all' },
        },
      ],
    });
    let flows;
    for (let i = 0; i < 100 && !(flows = await json('flows', '--site', 'store-1', '--verdict', 'deny')).data.length; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(flows!.data[0]).toMatchObject({ policy: 'ClusterNetworkPolicy/default', dport: 5432 });
    expect((await weft('flows', '--site', 'store-1', '--verdict', 'deny')).out).toContain('10.0.0.9:5555 -> 10.0.0.2:5432/6');

    const rb = await json('policy', 'rollback', '--wait');
    expect(rb).toMatchObject({ code: 0, data: { rollout: { kind: 'rollback', state: 'completed', policyVersion: v1 } } });
    expect(agents[0].bundles.at(-1)!.policyVersion).toBe(v1);

    expect((await weft('site', 'drain', 'store-2')).code).toBe(0);
    expect((await weft('site', 'revoke', 'store-2')).code).toBe(0);
    expect((await json('site', 'show', 'store-2')).data.state).toBe('revoked');
  });

  it('a site that cannot enforce in the kernel shows so at its first heartbeat: site list and show, /v1/sites, /v1/health, metrics', async () => {
    expect((await weft('site', 'create', 'store-9')).code).toBe(0);
    const tok = (await json('site', 'token', 'store-9')).data.token;
    const r = await t.api<EnrollResponse>('POST', '/v1/enroll', enrollRequest('store-9', deviceKeys(), tok), null);
    const agent = await SimAgent.connect(t.hub.broker.url(), r.body);
    agents.push(agent);
    const notEnforcing = { code: 'DATAPATH_LOAD', reason: 'kernel datapath unavailable: loading pod_egress.o: Invalid argument' };
    await agent.heartbeat({ nodeReady: false, enforcing: false, kernelEnforcing: false, notEnforcing });
    await eventually(async () => (await t.api('GET', '/v1/health?site=store-9')).body.sites[0]?.kernelEnforcing === false, 'not enforcing in /v1/health');
    expect((await t.api('GET', '/v1/health?site=store-9')).body.sites[0]).toMatchObject({ kernelEnforcing: false, notEnforcing });
    const site = (await t.api('GET', '/v1/sites')).body.find((x: { id: string }) => x.id === 'store-9');
    expect(site.health).toMatchObject({ kernelEnforcing: false, notEnforcing });
    const list = await weft('site', 'list');
    expect(list.out).toMatch(/^store-9\s+enrolled\s+offline,NOT ENFORCING \(DATAPATH_LOAD\)\s/m);
    expect((await weft('site', 'show', 'store-9')).out).toContain(`not enforcing: ${notEnforcing.reason} (DATAPATH_LOAD)`);
    const metrics = () => t.hub.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${t.admin}` } });
    expect((await metrics()).body).toMatch(/^weft_health_sites_not_enforcing 1$/m);
    // Fixed: the next heartbeat clears it everywhere.
    await agent.heartbeat({ kernelEnforcing: true });
    await eventually(async () => (await t.api('GET', '/v1/health?site=store-9')).body.sites[0]?.kernelEnforcing === true, 'enforcing again');
    expect((await weft('site', 'list')).out).not.toContain('NOT ENFORCING');
    expect((await metrics()).body).toMatch(/^weft_health_sites_not_enforcing 0$/m);
  });

  it('exits 2 on bad usage and 1 when the hub says no', async () => {
    expect((await weft('site', 'frobnicate')).code).toBe(2);
    expect((await weft('site', 'create', 'x', '--bogus')).code).toBe(2);
    expect((await weft('policy', 'rollout', 'abc')).code).toBe(2);
    expect((await weft('site', 'show', 'nope')).code).toBe(1);
    expect((await weft('policy', 'rollout', '999')).code).toBe(1);
    const j = await weft('site', 'show', 'nope', '--json');
    expect(JSON.parse(j.out).error).toContain('SITE_NOT_FOUND');
  });
});
