import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import https from 'node:https';
import { statSync } from 'node:fs';
import { startTestHub, type TestHub } from '../testing/hub-fixture.ts';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub((c) => {
    c.bodyLimitBytes = 64 * 1024;
  });
});
afterAll(async () => {
  await t?.close();
});

const NETPOL = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{port: 5432, protocol: TCP}]
`;

function httpsGet(url: string, ca: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca, headers: { authorization: `Bearer ${token}` } }, (res) => {
        let body = '';
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      })
      .on('error', reject);
  });
}

describe('hub API', () => {
  it('serves HTTPS with a certificate from the hub CA, and refuses a client that does not trust it', async () => {
    const r = await httpsGet(`${t.hub.url}/v1/whoami`, t.hub.caCertPem, t.admin);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ role: 'admin', name: 'bootstrap-admin' });
    await expect(new Promise((res, rej) => https.get(`${t.hub.url}/v1/ca`, res).on('error', rej))).rejects.toThrow(/self.signed|unable to verify|certificate/i);
    expect(statSync(t.hub.adminTokenFile).mode & 0o777).toBe(0o600);
    expect(statSync(`${t.dir}/pki/ca.key`).mode & 0o777).toBe(0o600);
  });

  it('serves the CA and its fingerprint without a token, and OpenAPI at /docs', async () => {
    const ca = await t.api('GET', '/v1/ca', undefined, null);
    expect(ca.body.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(ca.body.fingerprint).toBe(t.hub.caFingerprint);
    const doc = await t.hub.app.inject({ method: 'GET', url: '/docs/json' });
    expect(doc.statusCode).toBe(200);
    const paths = Object.keys(doc.json().paths);
    expect(paths).toEqual(expect.arrayContaining(['/v1/enroll', '/v1/sites', '/v1/policies', '/v1/rollouts', '/v1/flows', '/v1/health/events']));
    // Every route carries a schema: each operation documents its success response, and every route
    // behind a token documents the one error shape for 400 and 401.
    const undocumented: string[] = [];
    for (const [path, ops] of Object.entries(doc.json().paths as Record<string, Record<string, { responses?: Record<string, { content?: unknown }> }>>)) {
      for (const [method, op] of Object.entries(ops)) {
        const ok = Object.entries(op.responses ?? {}).find(([code]) => code.startsWith('2'));
        if (!ok || (ok[0] !== '204' && !ok[1].content)) undocumented.push(`${method} ${path}`);
        const open = ['/v1/ca', '/metrics', '/v1/enroll'].includes(path);
        if (!open && !['400', '401'].every((c) => op.responses?.[c])) undocumented.push(`${method} ${path} (errors)`);
      }
    }
    expect(undocumented).toEqual([]);
  });

  it('401 without or with a bad token, 403 for a role too low, and roles allow what they should', async () => {
    expect(await t.api('GET', '/v1/sites', undefined, null)).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED' } });
    expect(await t.api('GET', '/v1/sites', undefined, 'weft_wrong')).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED' } });
    const viewer = (await t.api('POST', '/v1/tokens', { name: 'dash', role: 'viewer' })).body;
    const operator = (await t.api('POST', '/v1/tokens', { name: 'ci', role: 'operator' })).body;
    expect((await t.api('GET', '/v1/sites', undefined, viewer.token)).status).toBe(200);
    expect(await t.api('POST', '/v1/sites', { name: 'x-1' }, viewer.token)).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    expect(await t.api('POST', '/v1/policies', { files: [{ name: 'a.yaml', content: NETPOL }], message: 'm' }, viewer.token)).toMatchObject({ status: 403 });
    expect((await t.api('POST', '/v1/policies', { files: [{ name: 'a.yaml', content: NETPOL }], message: 'm' }, operator.token)).status).toBe(201);
    expect((await t.api('POST', '/v1/sites', { name: 'x-1' }, operator.token)).status).toBe(403);
    expect((await t.api('POST', '/v1/sites/x-1/revoke', undefined, operator.token)).status).toBe(403);
    // Revoked tokens stop working at once.
    expect((await t.api('DELETE', `/v1/tokens/${viewer.id}`)).status).toBe(204);
    expect((await t.api('GET', '/v1/sites', undefined, viewer.token)).status).toBe(401);
    // Tokens are stored hashed.
    expect(JSON.stringify(await t.hub.store.tokens.listApiTokens())).not.toContain(operator.token);
  });

  it('413 for an oversized body, 400 with paths for unknown fields and bad values', async () => {
    const big = await t.api('POST', '/v1/policies', { files: [{ name: 'a.yaml', content: 'x'.repeat(70 * 1024) }], message: 'm' });
    expect(big).toMatchObject({ status: 413, body: { code: 'BODY_TOO_LARGE' } });
    const unknown = await t.api('POST', '/v1/sites', { name: 'store-9', colour: 'red' });
    expect(unknown).toMatchObject({ status: 400, body: { code: 'BAD_REQUEST' } });
    expect(JSON.stringify(unknown.body.details)).toContain('colour');
    const badSite = await t.api('POST', '/v1/sites', { name: 'Store_9', clientCidrs: ['10.0.0.0/33'], lat: 100 });
    expect(badSite).toMatchObject({ status: 400, body: { code: 'SITE_INVALID' } });
    expect(badSite.body.details.errors.map((e: { path: string }) => e.path)).toEqual(['name', 'clientCidrs[0]', 'lat']);
    // A service URL the router redirects users to: http(s) with a host, nothing a browser would run.
    for (const url of ['javascript:alert(1)', 'data:text/html,<b>x</b>', 'https://user:pw@pos.example', 'pos.example']) {
      const r = await t.api('POST', '/v1/sites', { name: 'store-u', services: [{ name: 'pos', addresses: ['10.0.0.5'], url }] });
      expect(r, url).toMatchObject({ status: 400, body: { code: 'SITE_INVALID', details: { errors: [{ path: 'services[0].url' }] } } });
    }
    const ok = await t.api('POST', '/v1/sites', { name: 'store-u', services: [{ name: 'pos', addresses: ['10.0.0.5'], url: 'https://pos.example/app' }] });
    expect(ok.status).toBe(201);
    expect((await t.api('GET', '/v1/nope')).body.code).toBe('NOT_FOUND');
  });

  it('400 POLICY_INVALID with every error, its file, document and path', async () => {
    const bad = NETPOL.replace('port: 5432', 'port: 70000').replace(
      'podSelector: {matchLabels: {app: db}}',
      'podSelector: {matchLabels: {app: db}}\n  bogus: 1',
    );
    const r = await t.api('POST', '/v1/policies', {
      message: 'broken',
      files: [
        { name: 'db.yaml', content: bad },
        { name: 'syntax.yaml', content: 'kind: [unclosed' },
        { name: 'ann.yaml', content: NETPOL.replace('namespace: shop}', 'namespace: shop, annotations: {weft.dev/sites: "region"}}') },
      ],
    });
    expect(r).toMatchObject({ status: 400, body: { code: 'POLICY_INVALID' } });
    const errs = r.body.details.errors as { file: string; path: string; code: string }[];
    expect(errs.find((e) => e.file === 'db.yaml' && e.path === 'spec.ingress[0].ports[0].port')).toBeTruthy();
    expect(errs.find((e) => e.file === 'db.yaml' && e.path === 'spec.bogus')).toBeTruthy();
    expect(errs.find((e) => e.file === 'syntax.yaml' && e.code === 'POLICY_YAML')).toBeTruthy();
    expect(errs.find((e) => e.file === 'ann.yaml' && e.path === 'metadata.annotations.weft.dev/sites')).toBeTruthy();
  });

  it('keeps versions with author and message, and diffs them', async () => {
    const v1 = (await t.api('POST', '/v1/policies', { files: [{ name: 'a.yaml', content: NETPOL }], message: 'first' })).body.version;
    const v2 = (await t.api('POST', '/v1/policies', { files: [{ name: 'a.yaml', content: NETPOL.replace('5432', '5433') }], message: 'port' })).body.version;
    const hist = await t.api('GET', '/v1/policies');
    expect(hist.body[0]).toMatchObject({ version: v2, message: 'port', author: expect.stringContaining('bootstrap-admin') });
    const d = await t.api('GET', `/v1/policies/diff?from=${v1}&to=${v2}`);
    expect(d.body.objects).toEqual({ added: [], removed: [], changed: ['NetworkPolicy/shop/db-from-web'] });
    expect(d.body.lines).toEqual(expect.arrayContaining(['-    ports: [{port: 5432, protocol: TCP}]', '+    ports: [{port: 5433, protocol: TCP}]']));
  });

  it('serves the loopback plain-HTTP listener for local tools', async () => {
    const res = await fetch(`${t.hub.httpUrl}/v1/whoami`, { headers: { authorization: `Bearer ${t.admin}` } });
    expect(res.status).toBe(200);
  });
});
