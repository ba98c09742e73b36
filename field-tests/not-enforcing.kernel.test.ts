// Fail closed, end to end: a real agent whose BPF objects are corrupt (libbpf refuses them) enrolls
// with a real hub in this process over HTTPS and speaks real MQTT to it. The hub must show the site as
// not enforcing, with the agent's code, at the agent's first heartbeat; once the objects are fixed, the
// agent's own retry loads the kernel datapath without a restart and the hub sees it enforcing. Root and
// the built BPF objects are needed (run under flock /tmp/weft-heavy.lock).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LibbpfDatapath, SOURCE_ARTIFACTS } from '../datapath/index.ts';
import { kernelSkipReason, uniquePinRoot } from '../datapath/testing/index.ts';
import { createLogger, createMetrics, loadConfig, runAgent, type Agent } from '../edge-agent/index.ts';
import { eventually, startTestHub, type TestHub } from '../hub/testing/index.ts';

const HEARTBEAT_S = 3;
const dir = mkdtempSync(join(tmpdir(), 'weft-failclosed-'));
const pinRoot = uniquePinRoot();
let hub: TestHub;
let agent: Agent | undefined;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

beforeAll(async () => {
  if (kernelSkipReason) return;
  const mqttPort = await freePort();
  hub = await startTestHub((c) => {
    c.heartbeatIntervalS = HEARTBEAT_S;
    c.mqtt = { hosts: ['127.0.0.1'], port: mqttPort, siteUrl: `mqtt://127.0.0.1:${mqttPort}` };
  });
}, 60_000);

afterAll(async () => {
  await agent?.stop();
  await hub?.close();
  LibbpfDatapath.unpin(pinRoot);
  rmSync(dir, { recursive: true, force: true });
});

describe('fail closed, agent to hub', () => {
  it.skipIf(kernelSkipReason)(
    'an agent whose BPF objects fail to load shows as not enforcing on the hub within one heartbeat, and recovers without a restart',
    async () => {
      expect((await hub.api('POST', '/v1/sites', { name: 'store-nx' })).status).toBe(201);
      const prov = (await hub.api('POST', '/v1/sites/store-nx/token', {})).body.provisioning;
      const provisionFile = join(dir, 'weft-provision.json');
      writeFileSync(provisionFile, JSON.stringify(prov), { mode: 0o600 });

      // Objects that are not ELF: libbpf refuses them, as it would a truncated or corrupt install.
      const objects = { podEgress: join(dir, 'pod_egress.o'), podIngress: join(dir, 'pod_ingress.o') };
      for (const f of Object.values(objects)) writeFileSync(f, 'not an ELF object\n'.repeat(64));
      const artifacts = { ...SOURCE_ARTIFACTS, objects };

      const cfg = loadConfig({
        flags: { dataDir: join(dir, 'agent'), statusPort: 0, tunnel: 'off', kube: 'off', provisionFile, pinRoot, nodeName: 'node-nx' },
        env: {},
      });
      expect(cfg.datapath).toBe('libbpf');
      const started = Date.now();
      agent = await runAgent(cfg, {
        log: createLogger({ level: process.env.RUN_DEBUG ? 'debug' : 'silent' }),
        metrics: createMetrics({ defaults: false }),
        loadKernel: () => LibbpfDatapath.open({ pinRoot, artifacts }),
        datapathRetryMs: 500,
      });
      const a = agent;
      expect(a.selected).toBeNull();

      // Enrolled and linked: the first heartbeat, sent on connect, must already say it.
      await eventually(() => a.link?.state.state === 'connected', 'agent linked to the hub', 30_000);
      const connectedAt = Date.now();
      // The enrollment's own lines are shown while it runs; then not enforcing, again.
      expect(a.state.line).toMatch(/^not enforcing: kernel datapath unavailable: .*\(DATAPATH_\w+\).*; retrying$/);
      const health = async () => (await hub.api('GET', '/v1/health?site=store-nx')).body.sites[0];
      await eventually(async () => (await health())?.kernelEnforcing === false, 'hub shows not enforcing', HEARTBEAT_S * 1000);
      const shownAfterMs = Date.now() - connectedAt;
      expect(shownAfterMs).toBeLessThan(HEARTBEAT_S * 1000);
      const h = await health();
      expect(h.notEnforcing.code).toMatch(/^DATAPATH_/);
      expect(h.notEnforcing.reason).toContain('kernel datapath unavailable');
      expect(h.nodeReady).toBe(false);
      const site = (await hub.api('GET', '/v1/sites')).body.find((s: { id: string }) => s.id === 'store-nx');
      expect(site.health).toMatchObject({ kernelEnforcing: false, notEnforcing: { code: h.notEnforcing.code } });
      const metrics = async () => (await hub.hub.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${hub.admin}` } })).body;
      expect(await metrics()).toMatch(/^weft_health_sites_not_enforcing 1$/m);
      console.log(
        `hub: not enforcing (${h.notEnforcing.code}: ${h.notEnforcing.reason}) ${shownAfterMs} ms after the link came up, ${Date.now() - started} ms after start`,
      );

      // The machine is fixed: the agent's retry loads the kernel datapath, no restart.
      copyFileSync(SOURCE_ARTIFACTS.objects.podEgress, objects.podEgress);
      copyFileSync(SOURCE_ARTIFACTS.objects.podIngress, objects.podIngress);
      await eventually(() => a.selected?.kind === 'libbpf', 'kernel datapath loaded on retry', 10_000);
      await eventually(async () => (await health())?.kernelEnforcing === true, 'hub shows enforcing again', (HEARTBEAT_S + 1) * 1000);
      expect((await health()).notEnforcing).toBeNull();
      expect(await metrics()).toMatch(/^weft_health_sites_not_enforcing 0$/m);
      expect((await a.status()).datapath).toMatchObject({ kind: 'libbpf', kernelEnforcing: true, notEnforcing: null });
    },
    90_000,
  );
});
