// weft-agent: the appliance's agent. `npm run -s weft-agent -- <command>` from a checkout, or the
// single binary dist/weft-agent. Exit 0 ok, 1 when the answer is "no" (a check failed, not
// enforcing), 2 for bad usage or input.
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { openStore } from '../../offline-store/index.ts';
import { loadConfig, type AgentConfig } from '../config.ts';
import { runDoctor, formatDoctor } from '../doctor.ts';
import { enroll } from '../enroll.ts';
import { errorCode, formatError } from '../../base/index.ts';
import { AgentError } from '../errors.ts';
import { runFlows } from '../flows.ts';
import { kubeSource } from '../kube-source.ts';
import { createLogger } from '../logger.ts';
import { prepareAssets } from '../packaging/assets.ts';
import { runAgent } from '../run.ts';
import { StateLine } from '../state-line.ts';
import { collectStatus, formatStatus } from '../status-cmd.ts';
import { siteTunnel } from '../tunnel-component.ts';
import { AGENT_VERSION } from '../version.ts';
import { camel, parseArgs } from './args.ts';
import type { FlowFilter } from '../status-types.ts';
import { cmdUpdate, UPDATE_FLAGS } from '../update/cli.ts';

const USAGE = `weft-agent ${AGENT_VERSION}: Weft edge agent

usage: weft-agent <command> [options]

commands:
  run                     enforce the last-known-good policy, then connect to the hub
  enroll --file <path>    enroll this device with a provisioning file (weft-provision.json)
  status [--json]         what the agent is doing, in one screen
  doctor [--json]         check kernel, disk, database, clock, hub, k3s and tunnel; exit 1 on any failure
  flows [--follow] [--verdict deny|audit|allow] [--pod ns/name] [--json]
                          verdict events with the policy that decided
  update guard|apply|watch|rollback|status
                          agent-only updates (docs/technician.md "Updates"): apply --release <file> --url <url>
  version                 print the version

options (all commands):
  --config <file>         settings file (default /etc/weft/agent.yaml when present)
  --data-dir <dir>        store, state and assets (default /var/lib/weft)
  --status-port <n>       local status API port on 127.0.0.1 (default 7181)
  --datapath libbpf|memory  kernel (default; not enforcing while it cannot load) or the in-memory fake (tests, demos)
  --kubeconfig <file>     k3s API (default /etc/rancher/k3s/k3s.yaml when present)
  --kube auto|off  --tunnel auto|off  --provision-file <file>  --pin-root <dir>  --log-level <level>
  --mqtt-protocol auto|4|5  MQTT version (default auto: 5, or 3.1.1 when the broker refuses 5)
  --console <device>      also write each state change to this serial console (e.g. /dev/ttyS0)
  --fqdn-min-ttl-s <n>  --fqdn-grace-s <n>  learned FQDN addresses live max(TTL, min) + grace (default 30, 10)
  --fqdn-sync-s <n>       copy learned FQDN addresses to the store this often (default 30)
`;

const BOOLEANS = ['json', 'follow', 'help', 'version'];
const CONFIG_FLAGS = [
  'config',
  'data-dir',
  'status-port',
  'datapath',
  'kubeconfig',
  'kube',
  'tunnel',
  'provision-file',
  'pin-root',
  'log-level',
  'state-file',
  'node-name',
  'mqtt-protocol',
  'console',
  'fqdn-min-ttl-s',
  'fqdn-grace-s',
  'fqdn-sync-s',
  'mesh-export',
  'mesh-endpoints',
  'mesh-dns',
];
const VALUES = [...CONFIG_FLAGS, ...UPDATE_FLAGS, 'file', 'verdict', 'pod', 'attempts'];

function configFrom(flags: Record<string, string | true>): AgentConfig {
  const f: Record<string, string | number> = {};
  for (const k of CONFIG_FLAGS) if (typeof flags[k] === 'string') f[camel(k)] = flags[k] as string;
  return loadConfig({ flags: f });
}

const print = (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);

async function cmdRun(cfg: AgentConfig): Promise<number> {
  // An agent idles between rare recompiles (docs/agent.md, "Memory"): no TurboFan (its code and the binary
  // text it touches cost 4-10 MB; a 1000-pod compile is no faster with it), and a 1 MB young generation
  // instead of up to 2 x 16 MB that a k3s list burst fills and V8 then keeps. Set before anything gets hot.
  setFlagsFromString('--no-opt');
  setFlagsFromString('--max-semi-space-size=1');
  const log = createLogger({ level: cfg.logLevel });
  const kube = kubeSource(cfg);
  if (!kube) log.info('no k3s API found: running as a host service without a k3s inventory');
  const agent = await runAgent(cfg, {
    log,
    kube: kube?.make,
    tunnel: cfg.tunnel === 'off' ? undefined : siteTunnel(log, undefined, undefined, join(cfg.dataDir, 'wireguard-port')),
  });
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      log.info({ signal: sig }, 'stopping; the kernel keeps enforcing the pinned generation');
      void agent.stop().finally(resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}

async function cmdEnroll(cfg: AgentConfig, flags: Record<string, string | true>): Promise<number> {
  const file = flags.file;
  if (typeof file !== 'string') throw new AgentError('USAGE', 'enroll needs --file <weft-provision.json>');
  const attempts = flags.attempts === undefined ? 5 : Number(flags.attempts);
  if (!Number.isInteger(attempts) || attempts < 1) throw new AgentError('USAGE', '--attempts must be a positive integer');
  const log = createLogger({ level: flags.json ? 'silent' : cfg.logLevel });
  const store = openStore(cfg.storePath);
  try {
    const state = new StateLine(cfg.stateFile, (line) => {
      if (!flags.json) process.stderr.write(`${line}\n`);
    });
    const e = await enroll({ store, provisionFile: file, log, state, attempts, nodeName: cfg.nodeName });
    print(
      flags.json
        ? JSON.stringify({ enrolled: true, siteId: e.siteId, broker: e.broker.url })
        : `enrolled as site ${e.siteId}; start the agent: systemctl restart weft-agent`,
    );
    return 0;
  } catch (e) {
    if (flags.json && e instanceof AgentError) {
      print(JSON.stringify({ enrolled: false, code: e.code, error: e.message, fix: e.hint }));
      return 1;
    }
    throw e;
  } finally {
    store.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const { command, positional, flags } = parseArgs(argv, { booleans: BOOLEANS, values: VALUES });
  if (flags.version || command === 'version') {
    print(AGENT_VERSION);
    return 0;
  }
  if (flags.help || command === 'help' || command === undefined) {
    print(USAGE);
    return command === undefined && !flags.help ? 2 : 0;
  }
  const cfg = configFrom(flags);
  // The single binary carries its native addons; every command may open the store, so extract first.
  prepareAssets(cfg.assetDir, createLogger({ level: command === 'run' ? cfg.logLevel : 'warn' }));
  switch (command) {
    case 'run':
      return cmdRun(cfg);
    case 'enroll':
      return cmdEnroll(cfg, flags);
    case 'status': {
      const r = await collectStatus(cfg);
      print(flags.json ? JSON.stringify(r, null, 2) : formatStatus(r));
      return r.running && r.status?.enforcing ? 0 : 1;
    }
    case 'doctor': {
      const results = await runDoctor(cfg);
      print(flags.json ? JSON.stringify(results, null, 2) : formatDoctor(results));
      return results.some((r) => r.status === 'fail') ? 1 : 0;
    }
    case 'update':
      return cmdUpdate(cfg, positional[0], flags, print);
    case 'flows': {
      const ac = new AbortController();
      process.once('SIGINT', () => ac.abort());
      await runFlows(
        cfg,
        { follow: flags.follow === true, json: flags.json === true, verdict: flags.verdict as FlowFilter['verdict'], pod: flags.pod as string | undefined },
        print,
        ac.signal,
      );
      return 0;
    }
    default:
      throw new AgentError('USAGE', `unknown command ${command}`, 'see `weft-agent help`');
  }
}

// `weft-agent flows | head`: the reader leaving ends the output, it is not a failure. Without this, the
// write's EPIPE is an unhandled 'error' event and prints a stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  process.exit(0);
});

main(process.argv.slice(2)).then(
  // An EPIPE may be pending (its 'error' comes on the next tick): the answer went nowhere, exit quietly.
  (code) => process.exit(process.stdout.errored ? 0 : code),
  (e: unknown) => {
    process.stderr.write(`weft-agent: ${formatError(e)}\n`);
    const usage = e instanceof AgentError && (e.code === 'USAGE' || e.code.startsWith('CONFIG_') || e.code.startsWith('PROVISION_'));
    // A coded error is bad input or a failed operation; anything else is a bug and shows its stack.
    if (errorCode(e) === undefined && e instanceof Error) process.stderr.write(`${e.stack ?? ''}\n`);
    process.exit(usage ? 2 : 1);
  },
);
