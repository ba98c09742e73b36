// The real mosquitto binary fed by the hub's files, probed with mosquitto_pub/mosquitto_sub:
// a site cannot publish on another site's topics nor read its bundle, and after revocation + reload
// it is disconnected and refused.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { topics } from '../../protocol/index.ts';
import { findMosquitto, startMosquitto, type MosquittoBroker } from './mosquitto.ts';
import { aclCases, cli, haveMosquittoClients } from './testing/acl-table.ts';
import { testSites, waitFor, type TestSites } from './testing/sites.ts';

const haveBinaries = findMosquitto() !== null && haveMosquittoClients;
if (!haveBinaries) console.warn('skipping Mosquitto tests: mosquitto or mosquitto-clients not installed');

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

  aclCases(() => ({ port: broker.port, sites, hub, sync: () => broker.sync(), kick: (id) => broker.kick(id) }));

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
