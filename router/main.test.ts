// weft-router's command line: what it needs, and a usage error (exit 2) for what is wrong.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRouterArgs, UsageError } from './main.ts';

const dir = mkdtempSync(join(tmpdir(), 'wrt-main-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};
const sites = file('sites.yaml', '[{ id: a, lat: 1, lon: 2, services: [{ name: pos, addresses: [10.0.0.1] }] }]');
const pw = file('pw', 'secret\n');
const base = ['--sites', sites, '--broker', 'mqtt://127.0.0.1:1883', '--broker-password-file', pw];

describe('weft-router command line', () => {
  it('takes the zone, DNS and HTTP listeners, broker and sites', () => {
    const o = parseRouterArgs([...base, '--broker', 'mqtts://[::1]:8883', '--zone', 'svc.example.com', '--dns-port', '5353', '--http-port', '0']);
    expect(o.settings).toMatchObject({ zone: 'svc.example.com', dns: { port: 5353, workers: 0 } });
    expect(parseRouterArgs([...base, '--zone', 'z.example', '--dns-workers', '1']).settings.dns).toEqual({ workers: 1 });
    expect(o.broker).toEqual({ urls: ['mqtt://127.0.0.1:1883', 'mqtts://[::1]:8883'], username: '_weft_hub', password: 'secret' });
    expect(o.http).toEqual({ host: '127.0.0.1', port: 0 });
    expect(o.heartbeatIntervalMs).toBe(5000);
    expect(o.loadSites().map((s) => s.id)).toEqual(['a']);
  });

  it.each([
    ['no sites', ['--zone', 'z.example'], /--sites is required/],
    ['no zone', base, /give --config/],
    ['bad broker', [...base, '--zone', 'z.example', '--broker', 'http://x'], /--broker: http:\/\/x is not/],
    ['bad port', [...base, '--zone', 'z.example', '--dns-port', '70000'], /--dns-port: 70000/],
    [
      'no password file',
      ['--sites', sites, '--broker', 'mqtt://h:1', '--broker-password-file', join(dir, 'nope'), '--zone', 'z.example'],
      /cannot read: ENOENT/,
    ],
  ])('%s', (_name, argv, msg) => {
    expect(() => parseRouterArgs(argv as string[])).toThrow(UsageError);
    expect(() => parseRouterArgs(argv as string[])).toThrow(msg);
  });

  it('exits 2 with the usage on a bad command line, naming the bad file', () => {
    const r = spawnSync(
      process.execPath,
      ['bin/weft-router.mjs', ...base, '--sites', file('bad.yaml', '[{ id: a, lat: 99, lon: 0 }]'), '--zone', 'z.example'],
      {
        cwd: resolve(import.meta.dirname, '..'),
        encoding: 'utf8',
      },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('bad.yaml#sites[0]: needs lat');
    expect(r.stderr).toContain('usage: weft-router');
  });
});
