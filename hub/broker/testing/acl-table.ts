// The ACL and revocation cases every file-fed broker must pass, probed from outside with the Debian
// mosquitto-clients (mosquitto_pub/mosquitto_sub): Mosquitto and a NATS node run the same table.
import { spawn, spawnSync } from 'node:child_process';
import type { MqttClient } from 'mqtt';
import { expect, it } from 'vitest';
import { topics } from '../../../protocol/index.ts';
import { record, waitFor, type TestSite, type TestSites } from './sites.ts';

export const haveMosquittoClients = spawnSync('mosquitto_pub', ['--help']).error === undefined;

export interface AclTarget {
  /** MQTT port of the broker (or cluster node) the clients dial on 127.0.0.1. */
  port: number;
  sites: TestSites;
  /** A full-access hub client on the same broker. */
  hub: MqttClient;
  /** Rewrite the broker's files from `sites` and reload. */
  sync(): Promise<void>;
  kick(siteId: string): Promise<void>;
}

export function cli(tool: 'mosquitto_pub' | 'mosquitto_sub', port: number, site: Pick<TestSite, 'username' | 'password'>, args: string[]) {
  return spawnSync(tool, ['-h', '127.0.0.1', '-p', String(port), '-u', site.username, '-P', site.password, '-q', '1', ...args], {
    encoding: 'utf8',
    timeout: 10_000,
  });
}

/** Registers the table's cases; `t()` is read when each case runs (after beforeAll). Uses sites alpha and bravo. */
export function aclCases(t: () => AclTarget): void {
  const site = (id: string) => t().sites.sites.get(id)!;

  it("lets a site read its own bundle but not another site's, even with wildcards", async () => {
    const { hub, port } = t();
    await hub.publishAsync(topics.bundle('alpha'), 'bundle-for-alpha', { qos: 1, retain: true });
    await hub.publishAsync(topics.bundle('bravo'), 'bundle-for-bravo', { qos: 1, retain: true });
    await hub.publishAsync(topics.signingKeys, 'keys', { qos: 1, retain: true });
    const r = cli('mosquitto_sub', port, site('alpha'), [
      '-v',
      '-W',
      '2',
      ...['-t', topics.bundle('alpha'), '-t', topics.broadcastAll, '-t', topics.bundle('bravo'), '-t', 'weft/v1/site/+/bundle', '-t', '#'],
    ]);
    // A broker may grant a wildcard filter and check read access per message, so alpha's own bundle can
    // arrive once per matching filter; bravo's never does.
    const lines = [...new Set(r.stdout.trim().split('\n'))].sort();
    expect(lines).toEqual([`${topics.signingKeys} keys`, `${topics.bundle('alpha')} bundle-for-alpha`]);
  });

  it("refuses a site's publishes on another site's topics and on its own bundle", async () => {
    const { hub, port } = t();
    const { got } = await record(hub, ['weft/v1/site/#']);
    for (const topic of [topics.heartbeat('bravo'), topics.status('bravo'), topics.bundle('bravo'), topics.bundle('alpha')]) {
      cli('mosquitto_pub', port, site('alpha'), ['-t', topic, '-m', 'forged']);
    }
    // Published after the forgeries on the same broker: once it is here, they would have been too.
    expect(cli('mosquitto_pub', port, site('alpha'), ['-t', topics.heartbeat('alpha'), '-m', 'own']).status).toBe(0);
    await waitFor(() => got.some((m) => m.payload === 'own'), 'own heartbeat');
    expect(got.filter((m) => m.payload === 'forged')).toEqual([]);
  });

  it('refuses a wrong password', () => {
    const r = cli('mosquitto_pub', t().port, { ...site('alpha'), password: 'wrong' }, ['-t', topics.heartbeat('alpha'), '-m', 'x']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/not authori[sz]ed/i);
  });

  it('disconnects and refuses a site after revocation and reload, and after kick()', async () => {
    const { port, sites } = t();
    const a = site('alpha');
    const sub = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-u', a.username, '-P', a.password, '-t', topics.bundle('alpha')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      sub.stdout.on('data', (b: Buffer) => (out += b.toString()));
      const exited = new Promise<void>((r) => sub.once('exit', () => r()));
      await waitFor(() => out.includes('bundle-for-alpha'), 'alpha session up');
      sites.revoked.add('alpha');
      await t().sync();
      await exited;
      const r = cli('mosquitto_pub', port, a, ['-t', topics.heartbeat('alpha'), '-m', 'x']);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/not authori[sz]ed/i);
      // Bravo is untouched until the hub kicks it.
      expect(cli('mosquitto_pub', port, site('bravo'), ['-t', topics.heartbeat('bravo'), '-m', 'x']).status).toBe(0);
      await t().kick('bravo');
      expect(cli('mosquitto_pub', port, site('bravo'), ['-t', topics.heartbeat('bravo'), '-m', 'x']).stderr).toMatch(/not authori[sz]ed/i);
    } finally {
      sub.kill('SIGKILL');
    }
  });
}
