// The local policy tools end to end: real files in a temp dir, the real `weft` entry for the eval
// contract (which outside tools depend on), in-process calls for the rest.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runPolicyCommand } from './policy-commands.ts';

const root = resolve(import.meta.dirname, '..', '..');
let dir: string;

const manifests = `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec: {template: {metadata: {labels: {app: web}}, spec: {containers: [{name: w, image: w}]}}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: shop}
spec: {template: {metadata: {labels: {app: db}}, spec: {containers: [{name: pg, image: pg, ports: [{name: pg, containerPort: 5432}]}]}}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: pg}]}]
`;

async function run(sub: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  try {
    const code = await runPolicyCommand(sub, args);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'weft-policy-cli-'));
  mkdirSync(join(dir, 'good'));
  writeFileSync(join(dir, 'good', 'shop.yaml'), manifests);
  mkdirSync(join(dir, 'bad'));
  writeFileSync(
    join(dir, 'bad', 'db.yaml'),
    `${manifests}---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: broken, namespace: shop}
spec:
  podSelector: {}
  ingress: [{ports: [{port: 443}, {port: 443, endPort: 80}]}]
---
apiVersion: v1
kind: Networkpolicy
metadata: {name: s}
---
apiVersion: v1
kind: Service
metadata: {name: s}
`,
  );
  writeFileSync(
    join(dir, 'queries.json'),
    JSON.stringify([
      { src: 'shop/web', dst: 'shop/db', protocol: 'TCP', port: 5432 },
      { src: 'shop/web', dst: 'shop/db', protocol: 'TCP', port: 5433 },
      { src: '203.0.113.9', dst: 'shop/web', protocol: 'UDP', port: 53 },
    ]),
  );
  mkdirSync(join(dir, 'audit'));
  writeFileSync(
    join(dir, 'audit', 'shop.yaml'),
    `${manifests}---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: shop, annotations: {weft.dev/mode: audit}}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
`,
  );
  writeFileSync(
    join(dir, 'service.yaml'),
    'apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n',
  );
  writeFileSync(join(dir, 'bad-queries.json'), JSON.stringify([{ src: 'shop/nope', dst: 'shop/db', protocol: 'TCP', port: 1 }]));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('weft policy eval (the contract outside tools use)', () => {
  it('prints one {allowed, decidedBy} per query, in order, through the real CLI', async () => {
    const { stdout } = await promisify(execFile)(
      'node',
      [join(root, 'bin/weft.mjs'), 'policy', 'eval', '--manifests', join(dir, 'good'), '--queries', join(dir, 'queries.json')],
      { cwd: root },
    );
    expect(JSON.parse(stdout)).toEqual([
      { allowed: true, decidedBy: { kind: 'NetworkPolicy', namespace: 'shop', name: 'db-from-web', rule: 'ingress[0]' } },
      { allowed: false, decidedBy: { kind: 'NetworkPolicy', namespace: 'shop', name: 'db-from-web', rule: 'isolation' } },
      { allowed: true, decidedBy: 'default-allow' },
    ]);
  });

  it('exits 2 with a clear message on an unknown endpoint or missing options', async () => {
    const r = await run('eval', '--manifests', join(dir, 'good'), '--queries', join(dir, 'bad-queries.json'));
    expect(r.code).toBe(2);
    expect(r.err).toContain('unknown endpoint "shop/nope" (POLICY_UNKNOWN_ENDPOINT)');
    expect((await run('eval', '--manifests', join(dir, 'good'))).code).toBe(2);
    expect((await run('eval', '--manifests', join(dir, 'missing'), '--queries', join(dir, 'queries.json'))).code).toBe(2);
  });
});

describe('weft policy check', () => {
  it('reads manifests from stdin as -', async () => {
    const child = execFile('node', [join(root, 'bin/weft.mjs'), 'policy', 'check', '-'], { cwd: root });
    child.stdin?.end('apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x}\nspec: {podSelector: {}, policyTypes: [Inbound]}\n');
    const [code, stderr] = await new Promise<[number | null, string]>((done) => {
      let err = '';
      child.stderr?.on('data', (d) => (err += String(d)));
      child.on('close', (c) => done([c, err]));
    });
    expect(code).toBe(1);
    expect(stderr).toContain('<stdin>#1 spec.policyTypes[0]: unknown policy type "Inbound" (POLICY_BAD_POLICY_TYPE)');
  });

  it('exits 0 on valid manifests', async () => {
    const r = await run('check', join(dir, 'good'), '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ valid: true, networkPolicies: 1, pods: 2 });
  });

  it('exits 1 listing every error with file, document, path, code and hint', async () => {
    const r = await run('check', join(dir, 'bad'));
    expect(r.code).toBe(1);
    const file = join(dir, 'bad', 'db.yaml');
    expect(r.err).toContain(`${file}#5 spec.ingress[0].ports[1].endPort: endPort 80 < port 443 (POLICY_ENDPORT_BEFORE_PORT)\n  hint: endPort must be >= port`);
    expect(r.err).toContain(`${file}#6 kind: unknown kind "Networkpolicy" (POLICY_UNKNOWN_KIND)`);
    expect(r.err).toContain(`warning: ${file}#7 kind: Service ignored: it has no effect on network policy (POLICY_IGNORED_KIND)`);
    expect(r.err).toContain('2 errors');
    const j = await run('check', join(dir, 'bad'), '--json');
    const report = JSON.parse(j.out);
    expect(report.valid).toBe(false);
    expect(report.errors.map((e: { code: string }) => e.code)).toEqual(['POLICY_ENDPORT_BEFORE_PORT', 'POLICY_UNKNOWN_KIND']);
    expect(report.errors[0]).toEqual({
      code: 'POLICY_ENDPORT_BEFORE_PORT',
      file,
      doc: 5,
      path: 'spec.ingress[0].ports[1].endPort',
      message: 'endPort 80 < port 443',
      hint: 'endPort must be >= port',
    });
    expect(report.warnings.map((e: { code: string }) => e.code)).toEqual(['POLICY_IGNORED_KIND']);
  });

  it('exits 0 on valid manifests beside a Service, and says what it ignored', async () => {
    const r = await run('check', join(dir, 'good'), join(dir, 'service.yaml'));
    expect(r.code).toBe(0);
    expect(r.out).toContain(
      'valid: 0 Admin-tier ClusterNetworkPolicy, 1 NetworkPolicy, 0 Baseline-tier ClusterNetworkPolicy; 1 namespace, 2 pods/workloads; 1 warning',
    );
    expect(r.err).toContain('POLICY_IGNORED_KIND');
  });

  it('exits 2 on bad usage', async () => {
    expect((await run('check')).code).toBe(2);
    expect((await run('check', join(dir, 'good'), '--bogus', 'x')).code).toBe(2);
  });
});

describe('weft policy explain, connlist, compile', () => {
  it('explains in words which policy and rule decided', async () => {
    const r = await run('explain', '--manifests', join(dir, 'good'), '--from', 'shop/web', '--to', 'shop/db', '--port', '5433/TCP');
    expect(r.code).toBe(0);
    expect(r.out).toContain('shop/web -> shop/db TCP/5433: DENIED');
    expect(r.out).toContain('ingress of shop/db: denied: shop/db is isolated for ingress by NetworkPolicy shop/db-from-web');
    const j = await run('explain', '--manifests', join(dir, 'good'), '--from', 'shop/web', '--to', 'shop/db', '--port', '5432', '--json');
    expect(JSON.parse(j.out).verdict.allowed).toBe(true);
    expect((await run('explain', '--manifests', join(dir, 'good'), '--from', 'shop/web', '--to', 'shop/db', '--port', 'http')).code).toBe(2);
  });

  it('lists every allowed connection', async () => {
    const r = await run('connlist', '--manifests', join(dir, 'good'));
    expect(r.out.trim().split('\n')).toEqual([
      'shop/db => shop/web : All Connections',
      'shop/web => shop/db : TCP 5432',
      'shop/db => other addresses : All Connections',
      'other addresses => shop/web : All Connections',
      'shop/web => other addresses : All Connections',
    ]);
    const j = await run('connlist', '--manifests', join(dir, 'good'), '--json');
    expect(JSON.parse(j.out)).toContainEqual({ src: 'shop/web', dst: 'shop/db', all: false, ports: { TCP: [[5432, 5432]], UDP: [], SCTP: [] } });
  });

  it('reviews an audit-mode default-deny as if enforced with --enforce-audit', async () => {
    const now = await run('connlist', '--manifests', join(dir, 'audit'));
    expect(now.out).toContain('shop/web => shop/db : TCP 5432');
    expect(now.out).toContain('shop/web => other addresses : All Connections');
    const lifted = await run('connlist', '--manifests', join(dir, 'audit'), '--enforce-audit');
    expect(lifted.code).toBe(0);
    // web's egress is now denied too: the default-deny needs egress allows before it is enforced
    expect(lifted.out.trim()).toBe('no connections are allowed');
    const x = await run('explain', '--manifests', join(dir, 'audit'), '--from', 'shop/web', '--to', 'shop/db', '--port', '5432/TCP', '--enforce-audit');
    expect(x.out).toContain('egress of shop/web: denied: shop/web is isolated for egress by NetworkPolicy shop/default-deny');
  });

  it('prints the tables and their sizes', async () => {
    const r = await run('compile', '--manifests', join(dir, 'good'));
    expect(r.out).toMatch(/^tables: 2 endpoints, 0 ipcache prefixes, 1 rule sets, \d+ rule entries/);
    const j = JSON.parse((await run('compile', '--manifests', join(dir, 'good'), '--json')).out);
    expect(j.sizes.endpoints).toBe(2);
    expect(j.endpoints.map((e: { pod: string }) => e.pod)).toEqual(['shop/db', 'shop/web']);
  });

  it('checks the tables against the configured map limits: over a limit is exit 1, never a partial table', async () => {
    const ok = await run('compile', '--manifests', join(dir, 'good'), '--limits', 'rules=100000,endpoints=2');
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/map limits: endpoints 2\/2, ipcache 0\/65536, sets 1\/16384, rules \d+\/100000/);
    const over = await run('compile', '--manifests', join(dir, 'good'), '--limits', 'endpoints=1');
    expect(over.code).toBe(1);
    expect(over.out).toBe('');
    expect(over.err).toContain('the endpoints table needs 2 entries but its map holds 1 (POLICY_CAPACITY)');
    const j = await run('compile', '--manifests', join(dir, 'good'), '--limits', 'endpoints=1', '--json');
    expect(JSON.parse(j.out)).toMatchObject({ error: { code: 'POLICY_CAPACITY', table: 'endpoints', needed: 2, limit: 1 } });
    expect((await run('compile', '--manifests', join(dir, 'good'), '--limits', 'rulez=5')).code).toBe(2);
  });

  it('rejects invalid manifests with exit 2', async () => {
    expect((await run('compile', '--manifests', join(dir, 'bad'))).code).toBe(2);
  });
});

describe('weft policy convert', () => {
  const v1 = `apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: db-guard}
spec:
  priority: 5
  subject: {pods: {podSelector: {matchLabels: {app: db}}}}
  ingress:
  - {name: web-pg, action: Allow, from: [{namespaces: {}}], ports: [{portNumber: {port: 5432}}, {portRange: {protocol: UDP, start: 53, end: 53}}, {namedPort: pg}]}
  - {action: Pass, from: [{pods: {namespaceSelector: {matchLabels: {team: ops}}}}]}
  egress: [{action: Deny, to: [{networks: [10.0.0.0/8]}], ports: [{portRange: {start: 1, end: 1024}}]}]
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {namespaces: {}}
  ingress: [{action: Deny, from: [{namespaces: {}}]}]
`;

  it('writes the ClusterNetworkPolicy each ANP/BANP is read as: the same policies, other objects untouched', async () => {
    mkdirSync(join(dir, 'v1alpha1'));
    writeFileSync(join(dir, 'v1alpha1', 'shop.yaml'), manifests);
    writeFileSync(join(dir, 'v1alpha1', 'admin.yaml'), v1);
    const r = await run('convert', join(dir, 'v1alpha1'));
    expect(r.code).toBe(0);
    expect(r.err).toContain('converted 2 objects to ClusterNetworkPolicy');
    expect(r.out).not.toMatch(/AdminNetworkPolicy|v1alpha1/);
    mkdirSync(join(dir, 'v1alpha2'));
    writeFileSync(join(dir, 'v1alpha2', 'all.yaml'), r.out);
    const after = await run('check', join(dir, 'v1alpha2'), '--json');
    expect(JSON.parse(after.out)).toMatchObject({ valid: true, adminPolicies: 1, baselinePolicies: 1, networkPolicies: 1, warnings: [] });
    const before = await run('check', join(dir, 'v1alpha1'), '--json');
    expect(JSON.parse(before.out).warnings.map((w: { code: string }) => w.code)).toEqual(['POLICY_DEPRECATED_KIND', 'POLICY_DEPRECATED_KIND']);
    const j = JSON.parse((await run('convert', join(dir, 'v1alpha1', 'admin.yaml'), '--json')).out);
    expect(j[0].spec).toEqual({
      tier: 'Admin',
      priority: 5,
      subject: { pods: { namespaceSelector: {}, podSelector: { matchLabels: { app: 'db' } } } },
      ingress: [
        {
          name: 'web-pg',
          action: 'Accept',
          from: [{ namespaces: {} }],
          protocols: [{ tcp: { destinationPort: { number: 5432 } } }, { udp: { destinationPort: { number: 53 } } }, { destinationNamedPort: 'pg' }],
        },
        { action: 'Pass', from: [{ pods: { namespaceSelector: { matchLabels: { team: 'ops' } }, podSelector: {} } }] },
      ],
      egress: [{ action: 'Deny', to: [{ networks: ['10.0.0.0/8'] }], protocols: [{ tcp: { destinationPort: { range: { start: 1, end: 1024 } } } }] }],
    });
    expect(j[1]).toMatchObject({ kind: 'ClusterNetworkPolicy', metadata: { name: 'default' }, spec: { tier: 'Baseline', priority: 0 } });
  });

  it('exits 1 and writes nothing when v1alpha2 cannot say it exactly (26 rules)', async () => {
    const many = Array.from({ length: 26 }, (_, i) => `  - {action: Deny, from: [{namespaces: {matchLabels: {n: "${i}"}}}]}`).join('\n');
    writeFileSync(join(dir, 'many.yaml'), `${v1.split('---')[0]}---\n${v1.split('---')[1].replace(/ {2}ingress: .*/, `  ingress:\n${many}`)}`);
    const r = await run('convert', join(dir, 'many.yaml'));
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toContain('spec.ingress: 26 ingress rules; a ClusterNetworkPolicy allows 25 (POLICY_CONVERT)');
  });
});
