import { describe, expect, it } from 'vitest';
import { parseStartArgs } from './args.ts';
import { StartError } from './errors.ts';

const parse = (...argv: string[]) => parseStartArgs(argv, '/repo');

describe('npm start options', () => {
  it('defaults: three sites, state in .weft of the checkout, the usual ports', () => {
    expect(parse()).toMatchObject({
      sites: 3,
      dataDir: '/repo/.weft',
      httpsPort: 8443,
      httpPort: 8080,
      mqttPort: 1883,
      dnsPort: 5353,
      wgPort: 51820,
      zone: 'svc.weft.test',
      logLevel: 'warn',
      help: false,
    });
  });

  it('takes --sites N, ports (0: any free one) and a data dir relative to the checkout', () => {
    expect(parse('--sites', '7', '--https-port', '0', '--data-dir', 'tmp/demo')).toMatchObject({ sites: 7, httpsPort: 0, dataDir: '/repo/tmp/demo' });
    expect(parse('--sites=50').sites).toBe(50);
  });

  it.each([
    [['--sites', '0'], '--sites 0: want a number of sites 1..50'],
    [['--sites', '51'], '--sites 51: want a number of sites 1..50'],
    [['--sites', 'three'], '--sites three: want a number of sites 1..50'],
    [['--sites', '2.5'], '--sites 2.5: want a number of sites 1..50'],
    [['--sites'], "Option '--sites <value>' argument missing"],
    [['--https-port', '70000'], '--https-port 70000: want a port number 0..65535'],
    [['--wg-port', '0'], '--wg-port 0: want a UDP port 1..65535'],
    [['--zone', 'not a zone'], '--zone not a zone: not a DNS name'],
    [['--log-level', 'loud'], '--log-level loud: want one of'],
    [['--site', '3'], "Unknown option '--site'"],
  ])('%j is refused with a clear message and exit 2', (argv, message) => {
    let err: unknown;
    try {
      parse(...argv);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StartError);
    const e = err as StartError;
    expect(e.code).toBe('START_BAD_OPTION');
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain(message);
    expect(e.format()).toMatch(/\n {2}hint: /);
  });
});
