// The real mosquitto binary fed by the hub's files, probed with mosquitto_pub/mosquitto_sub:
// a site cannot publish on another site's topics nor read its bundle, and after revocation + reload
// it is disconnected and refused.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { topics } from '../../protocol/index.ts';
import { findMosquitto, startMosquitto, type MosquittoBroker } from './mosquitto.ts';
import { record, testSites, waitFor, type TestSite, type TestSites } from './testing/sites.ts';

const haveBinaries = findMosquitto() !== null && spawnSync('mosquitto_pub', ['--help']).error === undefined;
if (!haveBinaries) console.warn('skipping Mosquitto tests: mosquitto or mosquitto-clients not installed');

function cli(tool: 'mosquitto_pub' | 'mosquitto_sub', port: number, site: TestSite, args: string[]) {
  return spawnSync(tool, ['-h', '127.0.0.1', '-p', String(port), '-u', site.username, '-P', site.password, '-q', '1', ...args], {
    encoding: 'utf8',
    timeout: 10_000,
  });
}

describe.skipIf(!haveBinaries)('Mosquitto fed by the hub', () => {
  let dir: string;
  let broker: MosquittoBroker;
  let sites: TestSites;
  let hub: MqttClient;
  const site = (id: string) => sites.sites.get(id)!;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'weft-mosquitto-'));
    sites = testSites(['alpha', 'bravo', 'charlie']);
    broker = await startMosquitto({ dir, port: 0, auth: sites.auth, credentials: () => sites.credentials() });
    hub = await broker.hubClient();
  });
  afterAll(async () => {
    await broker?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("lets a site read its own bundle but not another site's, even with wildcards", async () => {
    await hub.publishAsync(topics.bundle('alpha'), 'bundle-for-alpha', { qos: 1, retain: true });
    await hub.publishAsync(topics.bundle('bravo'), 'bundle-for-bravo', { qos: 1, retain: true });
    await hub.publishAsync(topics.signingKeys, 'keys', { qos: 1, retain: true });
    const r = cli('mosquitto_sub', broker.port, site('alpha'), [
      '-v',
      '-W',
      '2',
      '-t',
      topics.bundle('alpha'),
      '-t',
      topics.broadcastAll,
      '-t',
      topics.bundle('bravo'),
      '-t',
      'weft/v1/site/+/bundle',
      '-t',
      '#',
    ]);
    // Mosquitto grants wildcard filters and checks read access per message, so alpha's own bundle
    // can arrive once per matching filter; bravo's never does.
    const lines = [...new Set(r.stdout.trim().split('\n'))].sort();
    expect(lines).toEqual([`${topics.signingKeys} keys`, `${topics.bundle('alpha')} bundle-for-alpha`]);
  });

  it("refuses a site's publishes on another site's topics and on its own bundle", async () => {
    const { got } = await record(hub, ['weft/v1/site/#']);
    for (const topic of [topics.heartbeat('bravo'), topics.status('bravo'), topics.bundle('bravo'), topics.bundle('alpha')]) {
      cli('mosquitto_pub', broker.port, site('alpha'), ['-t', topic, '-m', 'forged']);
    }
    // Published after the forgeries on the same broker: once it is here, they would have been too.
    expect(cli('mosquitto_pub', broker.port, site('alpha'), ['-t', topics.heartbeat('alpha'), '-m', 'own']).status).toBe(0);
    await waitFor(() => got.some((m) => m.payload === 'own'), 'own heartbeat');
    expect(got.filter((m) => m.payload === 'forged')).toEqual([]);
  });

  it('refuses a wrong password', () => {
    const r = cli('mosquitto_pub', broker.port, { ...site('alpha'), password: 'wrong' }, ['-t', topics.heartbeat('alpha'), '-m', 'x']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/not authori[sz]ed/i);
  });

  it('disconnects and refuses a site after revocation and reload, and after kick()', async () => {
    const a = site('alpha');
    const sub = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(broker.port), '-u', a.username, '-P', a.password, '-t', topics.bundle('alpha')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      sub.stdout.on('data', (b: Buffer) => (out += b.toString()));
      const exited = new Promise<void>((r) => sub.once('exit', () => r()));
      await waitFor(() => out.includes('bundle-for-alpha'), 'alpha session up');
      sites.revoked.add('alpha');
      await broker.sync();
      await exited;
      const r = cli('mosquitto_pub', broker.port, a, ['-t', topics.heartbeat('alpha'), '-m', 'x']);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/not authori[sz]ed/i);
      // Bravo is untouched until the hub kicks it.
      expect(cli('mosquitto_pub', broker.port, site('bravo'), ['-t', topics.heartbeat('bravo'), '-m', 'x']).status).toBe(0);
      await broker.kick('bravo');
      expect(cli('mosquitto_pub', broker.port, site('bravo'), ['-t', topics.heartbeat('bravo'), '-m', 'x']).stderr).toMatch(/not authori[sz]ed/i);
    } finally {
      sub.kill('SIGKILL');
    }
  });

  it('restarts a crashed mosquitto (kill -9) and the hub client reconnects by itself', async () => {
    const before = broker.pid();
    const restarted = new Promise<void>((r) => broker.sessions.once('restarted', () => r()));
    process.kill(before!, 'SIGKILL');
    await restarted;
    expect(broker.pid()).not.toBe(before);
    await waitFor(() => hub.connected, 'hub client reconnected');
    // What the hub does on 'restarted': republish retained bundles. The site reads its own.
    await hub.publishAsync(topics.bundle('charlie'), 'after-restart', { qos: 1, retain: true });
    const r = cli('mosquitto_sub', broker.port, site('charlie'), ['-C', '1', '-W', '5', '-t', topics.bundle('charlie')]);
    expect(r.stdout.trim()).toBe('after-restart');
  });
});
