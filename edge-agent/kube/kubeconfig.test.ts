// The kubeconfig forms a site has: k3s's own (a client certificate and the CA inline, over TLS), files named
// relative to the kubeconfig, a token; and the ones the agent refuses with a clear KUBE_CONFIG error.
import { createServer, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePki, type TestPki } from '../testing/pki.ts';
import { KubeApi } from './api-client.ts';
import { loadKubeConfig } from './kubeconfig.ts';

const dir = mkdtempSync(join(tmpdir(), 'weft-wag-kubeconfig-'));
let pki: TestPki;
let other: TestPki;
let server: Server;
let url = '';
const seen: { cert: boolean; auth?: string }[] = [];

beforeAll(async () => {
  pki = makePki(dir, { name: 'k3s' });
  other = makePki(dir, { name: 'other' });
  // As k3s's API server: TLS with its own CA, and client certificates from that CA required.
  server = createServer({ key: pki.keyPem, cert: pki.certPem, ca: pki.caPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    seen.push({ cert: (req.socket as TLSSocket).getPeerCertificate().subject !== undefined, auth: req.headers.authorization });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ gitVersion: 'v1.31.0+k3s1' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const b64 = (s: string) => Buffer.from(s).toString('base64');
function kubeconfig(cluster: Record<string, unknown>, user: Record<string, unknown>): string {
  const path = join(dir, `kc-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'default',
      clusters: [{ name: 'default', cluster: { server: url, ...cluster } }],
      users: [{ name: 'default', user }],
      contexts: [{ name: 'default', context: { cluster: 'default', user: 'default' } }],
    }),
  );
  return path;
}

describe('kubeconfig', () => {
  it("k3s's kubeconfig (CA and client certificate inline) talks TLS with the client certificate", async () => {
    const path = kubeconfig(
      { 'certificate-authority-data': b64(pki.caPem) },
      { 'client-certificate-data': b64(pki.certPem), 'client-key-data': b64(pki.keyPem) },
    );
    const api = new KubeApi(await loadKubeConfig({ kubeconfig: path }));
    expect(await api.get('/version')).toEqual({ gitVersion: 'v1.31.0+k3s1' });
    expect(seen.at(-1)).toEqual({ cert: true, auth: undefined });
    api.close();
  });

  it('files named relative to the kubeconfig, and a token, are used', async () => {
    writeFileSync(join(dir, 'ca.crt'), pki.caPem);
    writeFileSync(join(dir, 'client.crt'), pki.certPem);
    writeFileSync(join(dir, 'client.key'), pki.keyPem);
    const path = kubeconfig({ 'certificate-authority': 'ca.crt' }, { 'client-certificate': 'client.crt', 'client-key': join(dir, 'client.key'), token: 't0k' });
    const api = new KubeApi(await loadKubeConfig({ kubeconfig: path }));
    await api.get('/version');
    expect(seen.at(-1)).toEqual({ cert: true, auth: 'Bearer t0k' });
    api.close();
  });

  it('a server whose certificate the kubeconfig CA did not sign is refused', async () => {
    const path = kubeconfig(
      { 'certificate-authority-data': b64(other.caPem) },
      { 'client-certificate-data': b64(pki.certPem), 'client-key-data': b64(pki.keyPem) },
    );
    const api = new KubeApi(await loadKubeConfig({ kubeconfig: path }));
    await expect(api.get('/version')).rejects.toMatchObject({ code: expect.stringMatching(/CERT|SIGNATURE|VERIFY/) });
    api.close();
  });

  it.each([
    ['an exec plugin', { exec: { command: 'aws' } }, {}, /exec and auth-provider plugins are not supported/],
    ['no current cluster', {}, { 'current-context': 'nope' }, /has no current cluster/],
    ['a missing certificate file', { 'client-certificate': 'gone.crt', 'client-key': 'gone.key' }, {}, /cannot be read.*gone\.crt/],
  ])('%s is a KUBE_CONFIG error naming the file', async (_n, user, top, msg) => {
    let path = kubeconfig({}, user);
    if ('current-context' in top) {
      path = join(dir, 'nocontext.yaml');
      writeFileSync(path, stringify({ 'current-context': 'nope', clusters: [], users: [], contexts: [] }));
    }
    await expect(loadKubeConfig({ kubeconfig: path })).rejects.toMatchObject({ code: 'KUBE_CONFIG', message: expect.stringMatching(msg) });
    await expect(loadKubeConfig({ kubeconfig: path })).rejects.toMatchObject({ message: expect.stringContaining(path) });
  });
});
