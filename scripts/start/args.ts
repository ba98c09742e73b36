// `npm start -- [options]`: the demo's command line, validated with the fix for each mistake.
import { errorMessage } from '../../base/index.ts';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { MAX_SITES } from '../../field-tests/lib/addressing.ts';
import { StartError } from './errors.ts';

export interface StartOptions {
  sites: number;
  /** Hub state, site stores and logs; recreated at every start (it is a demo). */
  dataDir: string;
  httpsPort: number;
  /** Plain HTTP on 127.0.0.1: local tools and the /go redirects. */
  httpPort: number;
  mqttPort: number;
  dnsPort: number;
  /** The hub's WireGuard UDP port (root only). */
  wgPort: number;
  zone: string;
  logLevel: string;
  help: boolean;
}

export const USAGE = `usage: npm start -- [options]
  --sites <n>         demo sites, 1..${MAX_SITES} (default 3; needs root)
  --data-dir <dir>    hub and site state (default .weft in the checkout; recreated at each start)
  --https-port <n>    hub API (default 8443)      --http-port <n>  local HTTP API and /go (default 8080)
  --mqtt-port <n>     embedded broker (default 1883)
  --dns-port <n>      router DNS on 127.0.0.1 (default 5353)
  --wg-port <n>       hub WireGuard UDP port (default 51820)
  --zone <name>       DNS zone of the router (default svc.weft.test)
  --log-level <l>     hub and agent logs (default warn)
Ports 0 pick free ones. Ctrl-C stops everything and removes what it created.`;

function int(v: string | undefined, name: string, fallback: number, lo: number, hi: number, what: string): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < lo || n > hi)
    throw new StartError('START_BAD_OPTION', `--${name} ${v}: want ${what} ${lo}..${hi}`, `e.g. npm start -- --${name} ${fallback}`);
  return n;
}

export function parseStartArgs(argv: string[], repoRoot: string): StartOptions {
  let v;
  try {
    v = parseArgs({
      args: argv,
      strict: true,
      options: {
        sites: { type: 'string' },
        'data-dir': { type: 'string' },
        'https-port': { type: 'string' },
        'http-port': { type: 'string' },
        'mqtt-port': { type: 'string' },
        'dns-port': { type: 'string' },
        'wg-port': { type: 'string' },
        zone: { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (e) {
    throw new StartError('START_BAD_OPTION', errorMessage(e), 'see npm start -- --help');
  }
  const port = (name: string, fallback: number) => int(v[name as keyof typeof v] as string | undefined, name, fallback, 0, 65535, 'a port number');
  const zone = v.zone ?? 'svc.weft.test';
  if (!/^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$/.test(zone))
    throw new StartError('START_BAD_OPTION', `--zone ${zone}: not a DNS name`, 'e.g. --zone svc.example.com');
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
  const logLevel = v['log-level'] ?? 'warn';
  if (!levels.includes(logLevel))
    throw new StartError('START_BAD_OPTION', `--log-level ${logLevel}: want one of ${levels.join(', ')}`, 'e.g. --log-level info');
  return {
    sites: int(v.sites, 'sites', 3, 1, MAX_SITES, 'a number of sites'),
    dataDir: resolve(repoRoot, v['data-dir'] ?? '.weft'),
    httpsPort: port('https-port', 8443),
    httpPort: port('http-port', 8080),
    mqttPort: port('mqtt-port', 1883),
    dnsPort: port('dns-port', 5353),
    wgPort: int(v['wg-port'], 'wg-port', 51820, 1, 65535, 'a UDP port'),
    zone,
    logLevel,
    help: v.help ?? false,
  };
}
