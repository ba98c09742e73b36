// The standalone fake API server as the field tests run it: a process per site, objects from YAML, a kubeconfig.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'weft-fakeapi-main-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const root = join(import.meta.dirname, '..', '..', '..');
const main = join(import.meta.dirname, 'fake-apiserver-main.ts');
const run = join(root, 'bin/run.mjs');

const objects = `
apiVersion: v1
kind: Namespace
metadata: { name: shop }
---
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Pod
    metadata: { name: web, namespace: shop, labels: { app: web } }
    spec: { nodeName: site-a, containers: [{ name: c, image: x }] }
    status: { phase: Running, podIP: 10.42.0.5 }
  - apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: { name: deny, namespace: shop }
    spec: { podSelector: {} }
`;

describe('fake-apiserver-main', () => {
  it('serves the objects of a YAML file, writes a kubeconfig, prints its URL, stops on SIGTERM', async () => {
    const file = join(dir, 'objects.yaml');
    const kubeconfig = join(dir, 'kubeconfig.yaml');
    writeFileSync(file, objects);
    const child = spawn(process.execPath, [run, main, '--objects', file, '--kubeconfig', kubeconfig, '--token', 'site-a-token', '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const first = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('\n')) resolve(out.split('\n')[0]);
        });
        child.on('exit', (code) => reject(new Error(`exited ${code}`)));
      });
      const info = JSON.parse(first) as { url: string; kubeconfig: string; token: string };
      expect(info).toMatchObject({ url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), kubeconfig, token: 'site-a-token' });
      const kc = parse(readFileSync(kubeconfig, 'utf8')) as { clusters: { cluster: { server: string } }[]; users: { user: { token: string } }[] };
      expect(kc.clusters[0].cluster.server).toBe(info.url);
      const headers = { authorization: `Bearer ${kc.users[0].user.token}` };
      const pods = (await (await fetch(`${info.url}/api/v1/pods`, { headers })).json()) as { items: { metadata: { name: string } }[] };
      expect(pods.items.map((p) => p.metadata.name)).toEqual(['web']);
      const np = (await (await fetch(`${info.url}/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies`, { headers })).json()) as { items: unknown[] };
      expect(np.items).toHaveLength(1);
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('bad usage exits 2 with a message naming the problem', () => {
    const r = spawnSync(process.execPath, [run, main, '--port', 'http'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--port http is not a port number/);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'kind: Pod\nmetadata: [oops');
    const r2 = spawnSync(process.execPath, [run, main, '--objects', bad], { encoding: 'utf8' });
    expect(r2.status).toBe(2);
    expect(r2.stderr).toContain(`${bad}#1`);
  });
});
