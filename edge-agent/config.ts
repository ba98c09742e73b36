// Agent configuration: defaults, then an optional file (/etc/weft/agent.yaml, JSON or YAML), then
// environment, then command-line flags. Bad values are AgentErrors naming the file and the key.
import { errorMessage } from '../base/index.ts';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { AgentError } from './errors.ts';
import type { MqttProtocol } from './link.ts';

/**
 * `libbpf`: the kernel datapath, the only one that filters packets; when it cannot load, the agent keeps
 * running, says `not enforcing` and retries it (fail closed, never a silent fake). `memory`: the in-memory
 * fake, only when asked for by name (tests, demos without root). `auto`, which fell back to the fake, is gone.
 */
export type DatapathChoice = 'libbpf' | 'memory';

export interface AgentConfig {
  dataDir: string;
  /** SQLite store (WAL). */
  storePath: string;
  /** The one-line state a technician sees on the console and the status page. */
  stateFile: string;
  /** A serial console device (e.g. /dev/ttyS0): each change of the state line is also written there. */
  console?: string;
  statusHost: string;
  /** 0 picks a free port (tests); the port in use is written to `${dataDir}/status-port`. */
  statusPort: number;
  datapath: DatapathChoice;
  pinRoot: string;
  /** Where first boot looks for the provisioning file. */
  provisionFile: string;
  kube: 'auto' | 'off';
  kubeconfig?: string;
  nodeName: string;
  tunnel: 'auto' | 'off';
  /** Debounce of recompiles after a bundle or inventory change. */
  debounceMs: number;
  /** Heartbeat period until the hub says otherwise at enrollment. */
  heartbeatIntervalS: number;
  /** FQDN egress: a learned address lives max(TTL, fqdnMinTtlS) + fqdnGraceS seconds (docs/datapath.md). */
  fqdnMinTtlS: number;
  fqdnGraceS: number;
  /** How often the learned addresses are copied from the kernel into the store (for reboots). */
  fqdnSyncS: number;
  /**
   * MQTT protocol of the hub broker: 'auto' tries 5 and falls back to 3.1.1 when the broker refuses it (the
   * hub's embedded aedes does); 4 or 5 pin one. All keep a persistent session (docs/agent.md).
   */
  mqttProtocol: MqttProtocol;
  /** Root-owned 0700 directory where the single binary extracts its native addons and BPF objects. */
  assetDir: string;
  logLevel: string;
  /** Site links (issue 22): the prefix this site offers linked sites (its node's pod range, e.g. 10.42.0.0/24). Absent: nothing offered. */
  meshExport?: string;
  /** Endpoints ("ip:port", comma-separated) this site knows itself by, tried by linked sites besides what the hub observed. */
  meshEndpoints?: string;
  /** Where the agent answers <service>.<site>.mesh.weft.internal ("host:port"). Absent: no mesh DNS. */
  meshDns?: string;
}

export const DEFAULT_CONFIG_FILE = '/etc/weft/agent.yaml';

export function defaults(env: NodeJS.ProcessEnv = process.env): AgentConfig {
  const dataDir = env.WEFT_DATA_DIR ?? '/var/lib/weft';
  return {
    dataDir,
    storePath: join(dataDir, 'agent.db'),
    stateFile: join(dataDir, 'state'),
    statusHost: '127.0.0.1',
    statusPort: 7181,
    datapath: 'libbpf',
    pinRoot: '/sys/fs/bpf/weft',
    // On k3s the DaemonSet mounts the site's node token (a Secret) and points here.
    provisionFile: env.WEFT_PROVISION_FILE ?? '/boot/weft-provision.json',
    kube: 'auto',
    // The DaemonSet sets WEFT_NODE_NAME from spec.nodeName: a node of a multi-node site enrolls under it.
    nodeName: env.WEFT_NODE_NAME ?? env.NODE_NAME ?? hostname(),
    tunnel: 'auto',
    debounceMs: 100,
    fqdnMinTtlS: 30,
    fqdnGraceS: 10,
    fqdnSyncS: 30,
    heartbeatIntervalS: 30,
    mqttProtocol: 'auto',
    assetDir: join(dataDir, 'assets'),
    logLevel: env.WEFT_LOG_LEVEL ?? 'info',
  };
}

const NUMERIC = new Set<keyof AgentConfig>(['statusPort', 'debounceMs', 'heartbeatIntervalS', 'fqdnMinTtlS', 'fqdnGraceS', 'fqdnSyncS']);
const CHOICES: Partial<Record<keyof AgentConfig, readonly string[]>> = {
  datapath: ['libbpf', 'memory'],
  kube: ['auto', 'off'],
  tunnel: ['auto', 'off'],
};
/** Values that used to be accepted, with why they went and what to write instead. */
const REMOVED: Record<string, { why: string; fix: string }> = {
  'datapath: auto': {
    why: 'it fell back to the in-memory datapath, which filters nothing',
    fix: 'remove the setting (libbpf, the kernel datapath, is the default) or write `datapath: memory` for a test or a demo without root',
  },
};
/** Settings without a default: absent unless a file, the environment or a flag sets them. */
const OPTIONAL = ['kubeconfig', 'console', 'meshExport', 'meshEndpoints', 'meshDns'];

function setKey(cfg: AgentConfig, key: string, value: unknown, where: string): void {
  if (!(key in cfg) && !OPTIONAL.includes(key)) {
    throw new AgentError('CONFIG_UNKNOWN_KEY', `${where}: unknown setting ${key}`, `known settings: ${[...Object.keys(cfg), ...OPTIONAL].join(', ')}`);
  }
  const k = key as keyof AgentConfig;
  if (k === 'mqttProtocol') {
    const n = value === 'auto' ? value : Number(value);
    if (n !== 'auto' && n !== 4 && n !== 5)
      throw new AgentError(
        'CONFIG_BAD_VALUE',
        `${where}: mqttProtocol must be auto, 4 (MQTT 3.1.1) or 5, got ${String(value)}`,
        'auto (the default) tries MQTT 5 and falls back to 3.1.1 when the broker refuses it',
      );
    cfg.mqttProtocol = n;
    return;
  }
  if (NUMERIC.has(k)) {
    const n = typeof value === 'number' ? value : Number(value);
    if (!Number.isInteger(n) || n < 0) throw new AgentError('CONFIG_BAD_VALUE', `${where}: ${key} must be a non-negative integer, got ${String(value)}`);
    (cfg as unknown as Record<string, unknown>)[k] = n;
    return;
  }
  if (typeof value !== 'string') throw new AgentError('CONFIG_BAD_VALUE', `${where}: ${key} must be a string`);
  const removed = REMOVED[`${k}: ${value}`];
  if (removed) throw new AgentError('CONFIG_REMOVED_VALUE', `${where}: ${key}: ${value} is no longer accepted: ${removed.why}`, removed.fix);
  const choices = CHOICES[k];
  if (choices && !choices.includes(value)) {
    throw new AgentError('CONFIG_BAD_VALUE', `${where}: ${key} must be one of ${choices.join(', ')}, got ${value}`);
  }
  (cfg as unknown as Record<string, unknown>)[k] = value;
}

export interface ConfigSources {
  /** Explicit config file (must exist); without it DEFAULT_CONFIG_FILE is read when present. */
  file?: string;
  /** Already-parsed flags, e.g. { dataDir: '/tmp/x', datapath: 'memory' }. */
  flags?: Record<string, string | number>;
  env?: NodeJS.ProcessEnv;
}

export function loadConfig(src: ConfigSources = {}): AgentConfig {
  const env = src.env ?? process.env;
  const cfg = defaults(env);
  const flags = { ...(src.flags ?? {}) };
  // A different data dir moves everything that lives under it unless set explicitly.
  const file = src.file ?? (typeof flags.config === 'string' ? flags.config : undefined) ?? env.WEFT_CONFIG;
  delete flags.config;
  const path = file ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  const layers: [Record<string, unknown>, string][] = [];
  if (path) {
    if (!existsSync(path)) throw new AgentError('CONFIG_NOT_FOUND', `config file ${path} does not exist`, 'pass --config with an existing file or remove it');
    let parsed: unknown;
    try {
      parsed = parseYaml(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new AgentError('CONFIG_PARSE', `${path}: ${errorMessage(e)}`, 'the config file is YAML or JSON');
    }
    if (parsed !== null && (typeof parsed !== 'object' || Array.isArray(parsed)))
      throw new AgentError('CONFIG_PARSE', `${path}: must be a mapping of settings`);
    layers.push([(parsed ?? {}) as Record<string, unknown>, path]);
  }
  layers.push([flags, 'command line']);
  for (const [layer] of layers) {
    if (typeof layer.dataDir === 'string') {
      const d = defaults({ ...env, WEFT_DATA_DIR: layer.dataDir });
      cfg.dataDir = d.dataDir;
      cfg.storePath = d.storePath;
      cfg.stateFile = d.stateFile;
      cfg.assetDir = d.assetDir;
    }
  }
  for (const [layer, where] of layers) for (const [k, v] of Object.entries(layer)) if (v !== undefined) setKey(cfg, k, v, where);
  return cfg;
}
