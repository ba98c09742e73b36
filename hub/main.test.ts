import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startTestHub, type TestHub } from './testing/hub-fixture.ts';
import { deviceKeys, enrollRequest, eventually, SimAgent } from './testing/sim-agent.ts';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub((c) => {
    c.router = { zone: 'svc.test', dns: { host: '127.0.0.1', port: 0 }, defaultLocation: { lat: 52.5, lon: 13.4 } };
  });
});
afterAll(async () => {
  await t?.close();
});

describe('startHub wires every part', () => {
  it('health follows the site over MQTT, the router sends end users (no token) to it, and revocation takes it out', async () => {
    await t.api('POST', '/v1/sites', {
      name: 'store-2',
      lat: 52.5,
      lon: 13.4,
      services: [{ name: 'pos', addresses: ['10.2.0.5'], url: 'https://store-2.example.com' }],
    });
    const tok = (await t.api('POST', '/v1/sites/store-2/token', {})).body.token;
    const r = await t.api('POST', '/v1/enroll', enrollRequest('store-2', deviceKeys(), tok), null);
    const agent = await SimAgent.connect(t.hub.broker.url(), r.body);
    try {
      await agent.heartbeat();
      await agent.heartbeat();
      await eventually(async () => (await t.api('GET', '/v1/health?site=store-2')).body.sites[0]?.health === 'online', 'store-2 online');
      const go = await t.hub.app.inject({ url: '/go/pos/menu?x=1' });
      expect(go.statusCode).toBe(302);
      expect(go.headers.location).toBe('https://store-2.example.com/menu?x=1');
      expect(t.hub.router!.dns.port).toBeGreaterThan(0);
      // Drain: the router's view says draining at once.
      await t.api('POST', '/v1/sites/store-2/drain');
      await eventually(() => t.hub.sitesView.get('store-2')?.health === 'draining', 'draining in the routing view');
      await t.api('POST', '/v1/sites/store-2/revoke');
      expect((await t.hub.app.inject({ url: '/go/pos' })).statusCode).toBe(404);
    } finally {
      await agent.close();
    }
  });
});

describe('hub process', () => {
  it('runs from the command line, prints its CA fingerprint, and stops on SIGTERM', async () => {
    const root = resolve(import.meta.dirname, '..');
    const dir = mkdtempSync(join(tmpdir(), 'weft-hubproc-'));
    try {
      const p = spawn(process.execPath, ['bin/run.mjs', 'hub/main.ts', '--data-dir', dir, '--https-port', '0', '--mqtt-port', '0', '--log-level', 'warn'], {
        cwd: root,
      });
      let out = '';
      p.stdout.on('data', (d) => {
        out += d;
      });
      try {
        await eventually(() => out.includes('admin token file'), 'the hub to start', 30_000);
        const fp = /CA fingerprint \(sha256\): ([0-9a-f]{64})/.exec(out)![1];
        const url = /weft hub: (https:\/\/\S+)/.exec(out)![1];
        const { request } = await import('./index.ts');
        const ca = await request({ hub: url, insecure: true }, 'GET', '/v1/ca');
        expect((ca.body as { fingerprint: string }).fingerprint).toBe(fp);
        expect(readFileSync(join(dir, 'admin-token'), 'utf8')).toMatch(/^weft_/);
      } finally {
        p.kill('SIGTERM');
        expect(await new Promise((res) => p.on('exit', res))).toBe(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
