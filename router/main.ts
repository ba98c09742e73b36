// weft-router: the end-user router as its own process, beside the hub replicas or on a machine of
// its own, so DNS keeps answering when a hub node, or the API on it, is down or overloaded. Sites
// from a file (SIGHUP re-reads it), health from the broker, the rest from the router config file.
// Exit 0 on SIGTERM/SIGINT, 2 on bad usage or config, 1 when it cannot start.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { errorMessage, formatError } from '../base/index.ts';
import { RouterConfigError, type RouterSettings } from './config.ts';
import { loadRouterSettings, parseRouterSettings } from './config-file.ts';
import { loadSitesFile } from './sites-file.ts';
import { startStandaloneRouter, type StandaloneOptions } from './standalone.ts';

export const USAGE = `usage: weft-router --sites <file> --broker <mqtt-url> [--broker <url>...] --broker-password-file <file>
                   (--config <router.yaml> | --zone <zone>) [options]
  --sites <file>                 site records, YAML or JSON (the hub's GET /v1/sites); SIGHUP re-reads it
  --broker <url>                 mqtt:// or mqtts:// broker the sites report to; repeat for a cluster
  --broker-user <name>           default _weft_hub (the hub's own user)
  --broker-password-file <file>  the broker password, first line
  --broker-ca <file>             PEM certificate the broker must present (mqtts)
  --config <file>                router settings (zone, nameservers, cidrMap, regions, geoDbPath, limits)
  --zone <zone>                  overrides the file's zone
  --dns-host <addr>, --dns-port <n>    where DNS listens (UDP and TCP); default 127.0.0.1:53
  --dns-workers <n>              DNS processes sharing the port; default 0: one per core (1: a thread)
  --http-host <addr>, --http-port <n>  HTTP /go, /v1/route and /metrics; off unless a port is given
  --heartbeat-interval-s <n>     the agents' heartbeat interval, as the hub's (default 5)
  --log-level <level>            default info`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

function int(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name}: ${v} is not an integer in [${min}, ${max}]`);
  return n;
}

function readText(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`${flag} ${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`);
  }
}

/** The command line as start options; UsageError or RouterConfigError when it is wrong. */
export function parseRouterArgs(argv: string[]): StandaloneOptions & { logLevel: string } {
  const { values: v } = parseArgs({
    args: argv,
    strict: true,
    options: {
      sites: { type: 'string' },
      broker: { type: 'string', multiple: true },
      'broker-user': { type: 'string' },
      'broker-password-file': { type: 'string' },
      'broker-ca': { type: 'string' },
      config: { type: 'string' },
      zone: { type: 'string' },
      'dns-host': { type: 'string' },
      'dns-port': { type: 'string' },
      'dns-workers': { type: 'string' },
      'http-host': { type: 'string' },
      'http-port': { type: 'string' },
      'heartbeat-interval-s': { type: 'string' },
      'log-level': { type: 'string' },
    },
  });
  const sitesFile = v.sites;
  if (!sitesFile) throw new UsageError('--sites is required');
  if (!v.broker?.length) throw new UsageError('--broker is required');
  for (const u of v.broker) if (!/^mqtts?:\/\/[^/]+$/.test(u)) throw new UsageError(`--broker: ${u} is not mqtt://host:port or mqtts://host:port`);
  if (!v['broker-password-file']) throw new UsageError('--broker-password-file is required');
  const dnsPort = int('dns-port', v['dns-port'], 0, 65_535);
  const workers = int('dns-workers', v['dns-workers'], 0, 256);
  const overrides: Partial<RouterSettings> = {
    ...(v.zone ? { zone: v.zone } : {}),
    dns: {
      ...(v['dns-host'] ? { host: v['dns-host'] } : {}),
      ...(dnsPort !== undefined ? { port: dnsPort } : {}),
      ...(workers !== undefined ? { workers } : {}),
    },
  };
  let settings: RouterSettings;
  if (v.config) settings = loadRouterSettings(v.config, overrides);
  else if (v.zone) settings = parseRouterSettings('{}', '(command line)', overrides);
  else throw new UsageError('give --config <router.yaml> or --zone <zone>');
  // On its own the router has the machine to itself: every core, unless the file or a flag says otherwise.
  settings.dns = { workers: 0, ...settings.dns };
  loadSitesFile(sitesFile); // fail at once, as a usage error, on a bad file
  const httpPort = int('http-port', v['http-port'], 0, 65_535);
  const hb = int('heartbeat-interval-s', v['heartbeat-interval-s'], 1, 3600) ?? 5;
  return {
    settings,
    loadSites: () => loadSitesFile(sitesFile),
    broker: {
      urls: v.broker,
      username: v['broker-user'] ?? '_weft_hub',
      password: readText(v['broker-password-file'], '--broker-password-file').split('\n')[0].trim(),
      ...(v['broker-ca'] ? { ca: readText(v['broker-ca'], '--broker-ca') } : {}),
    },
    http: httpPort === undefined ? null : { host: v['http-host'] ?? '127.0.0.1', port: httpPort },
    heartbeatIntervalMs: hb * 1000,
    logLevel: v['log-level'] ?? 'info',
  };
}

/** The process: bin/weft-router.mjs runs it with the command line. */
export async function runRouterProcess(argv: string[]): Promise<void> {
  let opts: ReturnType<typeof parseRouterArgs>;
  try {
    opts = parseRouterArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError || err instanceof RouterConfigError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))) throw err;
    process.stderr.write(`weft-router: ${formatError(err)}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  const logger = pino({ level: opts.logLevel });
  let r: Awaited<ReturnType<typeof startStandaloneRouter>>;
  try {
    r = await startStandaloneRouter({ ...opts, logger });
  } catch (err) {
    // A coded error (the broker unreachable, the port taken) says what and how to fix it; a bug shows its stack.
    process.stderr.write(`weft-router: ${formatError(err)}\n`);
    process.exitCode = 1;
    return;
  }
  process.stdout.write(
    `weft-router: zone ${r.router.config.zone}, DNS ${r.router.dns.host}:${r.router.dns.port} (${r.router.dnsWorkers} workers)` +
      `${r.http ? `, HTTP http://${r.http.host}:${r.http.port}` : ''}, ${r.view.list().length} sites, broker ${opts.broker.urls.join(', ')}\n`,
  );
  process.on('SIGHUP', () => {
    try {
      r.reload();
      logger.info({ sites: r.view.list().length }, 'router: sites re-read');
    } catch (err) {
      logger.error({ err: errorMessage(err) }, 'router: sites file not re-read, keeping the last good one');
    }
  });
  const stop = () => {
    void r.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runRouterProcess(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`weft-router: ${errorMessage(err)}\n`);
    process.exit(1);
  });
}
