import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, parseHubArgs } from './config.ts';

describe('hub command line', () => {
  it('reads ports, names, overlay and router options over the defaults', () => {
    const c = parseHubArgs([
      '--data-dir',
      '/d',
      '--https-port',
      '0',
      '--http-port',
      '8080',
      '--tls-name',
      'hub.example.com',
      '--tls-name',
      '10.0.0.1',
      '--mqtt-port',
      '0',
      '--overlay-v4',
      '10.50.0.0/16',
      '--zone',
      'svc.example.com',
      '--dns-port',
      '0',
    ]);
    expect(c).toMatchObject({
      dataDir: '/d',
      httpsPort: 0,
      httpPort: 8080,
      tlsNames: ['hub.example.com', '10.0.0.1'],
      mqtt: { hosts: ['127.0.0.1'], port: 0 },
      overlayV4: '10.50.0.0/16',
      overlayV6: 'fd00:99::/64',
      router: { zone: 'svc.example.com', dns: { host: '127.0.0.1', port: 0 } },
    });
    expect(parseHubArgs(['--data-dir', '/d']).httpPort).toBeNull();
  });

  it('creates the WireGuard interface only when asked to', () => {
    expect(parseHubArgs(['--data-dir', '/d', '--wg-ifname', 'weft0', '--wg-port', '51821']).wireguard).toMatchObject({ ifname: 'weft0', listenPort: 51821 });
    // Enrollment hands out the port the hub listens on, unless an endpoint is given.
    expect(parseHubArgs(['--data-dir', '/d', '--wg-port', '51821']).wireguard.endpoint).toBe('127.0.0.1:51821');
    expect(parseHubArgs(['--data-dir', '/d', '--wg-port', '51821', '--wg-endpoint', 'hub.example:4500']).wireguard.endpoint).toBe('hub.example:4500');
    expect(parseHubArgs(['--data-dir', '/d']).wireguard.ifname).toBeUndefined();
  });

  it.each([
    [['--https-port', '1'], '--data-dir is required'],
    [['--data-dir', '/d', '--https-port', '99999'], 'want a port number'],
    [['--data-dir', '/d', '--bogus'], 'bogus'],
    [['--data-dir', '/d', '--wg-port', 'x'], '--wg-port x'],
  ])('refuses %j', (argv, msg) => {
    expect(() => parseHubArgs(argv)).toThrow(ConfigError);
    expect(() => parseHubArgs(argv)).toThrow(msg);
  });
});

describe('hub command line with a router config file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-hub-router-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'city.mmdb'), 'not opened here, only checked for readability');
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const GOOD = 'zone: svc.example.com\nttl: 5\nnoHealthySite: fail-closed\ngeoDbPath: city.mmdb\n';

  it('weft-hub --router-config: flags override the file; a bad file is a usage error naming it', () => {
    const c = parseHubArgs(['--data-dir', dir, '--router-config', file('hub.yaml', GOOD), '--zone', 'other.example.com', '--dns-port', '0']);
    expect(c.router).toMatchObject({ zone: 'other.example.com', dns: { host: '127.0.0.1', port: 0 }, ttl: 5, noHealthySite: 'fail-closed' });
    expect(() => parseHubArgs(['--data-dir', dir, '--router-config', file('bad.yaml', 'zone: a.example\nttl: -1')])).toThrow(ConfigError);
    expect(() => parseHubArgs(['--data-dir', dir, '--router-config', join(dir, 'missing.yaml')])).toThrow(/missing\.yaml: cannot read: ENOENT/);
  });

  it('--broker nats: one node from --mqtt-host/--mqtt-port and --nats-*, every site URL kept in order', () => {
    const c = parseHubArgs([
      ...['--data-dir', '/d', '--broker', 'nats', '--mqtt-host', '10.99.0.1', '--mqtt-port', '1883', '--nats-name', 'hub-a'],
      ...[
        '--nats-cluster-port',
        '6222',
        '--nats-cluster-host',
        '10.0.0.1',
        '--nats-route',
        '10.0.0.2:6222',
        '--nats-route',
        '10.0.0.3:6222',
        '--nats-key-file',
        '/etc/weft/broker.key',
      ],
      ...['--site-broker-url', 'mqtt://10.99.0.1:1883', '--site-broker-url', 'mqtt://10.99.0.2:1883'],
    ]);
    expect(c.mqtt).toMatchObject({ broker: 'nats', siteUrl: 'mqtt://10.99.0.1:1883', siteUrls: ['mqtt://10.99.0.1:1883', 'mqtt://10.99.0.2:1883'] });
    expect(c.nats).toEqual({
      nodes: [
        {
          name: 'hub-a',
          mqttHost: '10.99.0.1',
          mqttPort: 1883,
          clientPort: 4222,
          httpPort: 8222,
          clusterPort: 6222,
          clusterHost: '10.0.0.1',
          routes: ['10.0.0.2:6222', '10.0.0.3:6222'],
        },
      ],
      keyFile: '/etc/weft/broker.key',
    });
    expect(() => parseHubArgs(['--data-dir', '/d', '--broker', 'nats', '--mqtt-host', 'a', '--mqtt-host', 'b'])).toThrow(/one --mqtt-host/);
    expect(() => parseHubArgs(['--data-dir', '/d', '--broker', 'nats', '--nats-route', 'nope'])).toThrow(/want host:port/);
    expect(() => parseHubArgs(['--data-dir', '/d', '--nats-route', 'a:1'])).toThrow(/need --broker nats/);
    expect(() => parseHubArgs(['--data-dir', '/d', '--broker', 'rabbit'])).toThrow(/want aedes, mosquitto or nats/);
  });
});
