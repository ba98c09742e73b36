// `weft policy check|eval|explain|connlist|compile|convert`: local policy tools over manifest files.
// Exit codes: 0 success, 1 the answer is "no" (invalid manifests), 2 bad usage or input.
import { errorMessage, formatError } from '../../base/index.ts';
import { readFileSync } from 'node:fs';
import {
  CapacityError,
  compile,
  connlist,
  convertAdminPolicy,
  isDeprecatedPolicy,
  manifestsYaml,
  connlistText,
  DEFAULT_LIMITS,
  EndpointError,
  enforceAudited,
  evaluate,
  explain,
  explainText,
  loadPolicies,
  parseManifests,
  type Flow,
  type Loaded,
  type ManifestObject,
  type MapLimits,
  type PolicyError,
  type PolicySet,
  type Protocol,
} from '../../policy/index.ts';
import { only, parseArgs, required, UsageError, type Args } from './cli-args.ts';
import { ManifestFileError, readManifestFiles } from './manifest-files.ts';

const USAGE: Record<string, string> = {
  check: 'weft policy check <files|dirs...|-> [--json]',
  eval: 'weft policy eval --manifests <dir> --queries <file.json>',
  explain: 'weft policy explain --manifests <dir> --from <E> --to <E> --port 443/TCP [--enforce-audit] [--json]',
  connlist: 'weft policy connlist --manifests <dir> [--enforce-audit] [--json]',
  compile: 'weft policy compile --manifests <dir> [--limits rules=N,sets=N,ipcache=N,endpoints=N] [--json]',
  convert: 'weft policy convert <files|dirs...|-> [--json]',
};

const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
const err = (s: string) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`);

/** Reads, parses and validates manifests; every error is collected. */
function loadManifests(paths: readonly string[]): Loaded & { objects: ManifestObject[] } {
  const { objects, errors } = parseManifests(readManifestFiles(paths));
  const loaded = loadPolicies(objects);
  return { ...loaded, objects, errors: [...errors, ...loaded.errors] };
}

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

function printErrors(errors: readonly PolicyError[], warnings: readonly PolicyError[], json: boolean): void {
  if (json) out(JSON.stringify({ valid: false, errors, warnings }, null, 2));
  else {
    for (const e of errors) err(formatError(e));
    printWarnings(warnings);
    err(plural(errors.length, 'error'));
  }
}

function printWarnings(warnings: readonly PolicyError[]): void {
  for (const w of warnings) err(`warning: ${formatError(w)}`);
}

/** For commands that need valid manifests: invalid ones are bad input (exit 2). */
function loadValid(args: Args): Loaded | number {
  const loaded = loadManifests([required(args, 'manifests')]);
  if (loaded.errors.length > 0) {
    printErrors(loaded.errors, loaded.warnings, args.flags.has('json'));
    return 2;
  }
  return loaded;
}

function check(args: Args): number {
  only(args, ['json']);
  if (args.positionals.length === 0) throw new UsageError('name at least one file or directory');
  const { policies, inventory, errors, warnings } = loadManifests(args.positionals);
  if (errors.length > 0) {
    printErrors(errors, warnings, args.flags.has('json'));
    return 1;
  }
  const counts = {
    adminPolicies: policies.admin.length,
    networkPolicies: policies.network.length,
    baselinePolicies: policies.baseline.length,
    namespaces: inventory.namespaces.length,
    pods: inventory.pods.length,
    nodes: inventory.nodes?.length ?? 0,
  };
  if (args.flags.has('json')) {
    out(JSON.stringify({ valid: true, ...counts, warnings }, null, 2));
    return 0;
  }
  printWarnings(warnings);
  out(
    `valid: ${counts.adminPolicies} Admin-tier ClusterNetworkPolicy, ${counts.networkPolicies} NetworkPolicy, ${counts.baselinePolicies} Baseline-tier ClusterNetworkPolicy; ${plural(counts.namespaces, 'namespace')}, ${counts.pods} pods/workloads${counts.nodes > 0 ? `, ${plural(counts.nodes, 'node')}` : ''}${warnings.length > 0 ? `; ${plural(warnings.length, 'warning')}` : ''}`,
  );
  return 0;
}

/**
 * Every object of the manifests as a YAML stream, AdminNetworkPolicy and BaselineAdminNetworkPolicy
 * replaced by the ClusterNetworkPolicy they are read as. Invalid input: exit 2; input v1alpha2 cannot
 * say exactly (POLICY_CONVERT): exit 1, nothing written.
 */
function convertCommand(args: Args): number {
  only(args, ['json']);
  if (args.positionals.length === 0) throw new UsageError('name at least one file or directory');
  const loaded = loadManifests(args.positionals);
  if (loaded.errors.length > 0) {
    printErrors(loaded.errors, loaded.warnings, args.flags.has('json'));
    return 2;
  }
  const errors: PolicyError[] = [];
  let converted = 0;
  const objects = loaded.objects.map((m) => {
    if (!isDeprecatedPolicy(m.object)) return m.object;
    const c = convertAdminPolicy(m.object, { file: m.file, doc: m.doc, path: m.path });
    errors.push(...c.errors);
    converted++;
    return c.object;
  });
  if (errors.length > 0) {
    printErrors(errors, [], args.flags.has('json'));
    return 1;
  }
  if (args.flags.has('json')) out(JSON.stringify(objects, null, 2));
  else out(manifestsYaml(objects));
  err(`converted ${plural(converted, 'object')} to ClusterNetworkPolicy`);
  return 0;
}

const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];

function readQueries(file: string): Flow[] {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`${file}: ${errorMessage(e)}`);
  }
  if (!Array.isArray(data)) throw new UsageError(`${file}: expected a JSON array of {src, dst, protocol, port}`);
  return data.map((q: unknown, i) => {
    const at = `${file}[${i}]`;
    if (typeof q !== 'object' || q === null) throw new UsageError(`${at}: expected an object {src, dst, protocol, port}`);
    const { src, dst, protocol, port } = q as Record<string, unknown>;
    if (typeof src !== 'string' || typeof dst !== 'string') throw new UsageError(`${at}: src and dst must be strings ("<namespace>/<name>" or an IP address)`);
    if (typeof protocol !== 'string' || !PROTOCOLS.includes(protocol)) throw new UsageError(`${at}.protocol: must be TCP, UDP or SCTP`);
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`${at}.port: must be an integer 1-65535`);
    return { src, dst, protocol: protocol as Flow['protocol'], port };
  });
}

function evalCommand(args: Args): number {
  only(args, ['manifests', 'queries', 'json']);
  const queries = readQueries(required(args, 'queries'));
  const loaded = loadValid(args);
  if (typeof loaded === 'number') return loaded;
  const results = queries.map((q, i) => {
    try {
      const v = evaluate(loaded.policies, loaded.inventory, q);
      return { allowed: v.allowed, decidedBy: v.decidedBy };
    } catch (e) {
      if (e instanceof EndpointError) throw new EndpointError(e.code, `queries[${i}]: ${e.message}`, e.hint);
      throw e;
    }
  });
  out(JSON.stringify(results));
  return 0;
}

/** `443/TCP`, `53/udp`, or `443` (TCP). */
function parsePort(text: string): { port: number; protocol: Protocol } {
  const m = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/i.exec(text);
  const port = m ? Number(m[1]) : NaN;
  if (!m || port < 1 || port > 65535) throw new UsageError(`--port ${text}: write <port>/<protocol>, e.g. 443/TCP or 53/UDP`);
  return { port, protocol: (m[2]?.toUpperCase() ?? 'TCP') as Protocol };
}

/** `--enforce-audit`: answer as if every audit-mode policy were enforced (the review before enforcing). */
const policiesFor = (args: Args, loaded: Loaded): PolicySet => (args.flags.has('enforce-audit') ? enforceAudited(loaded.policies) : loaded.policies);

function explainCommand(args: Args): number {
  only(args, ['manifests', 'from', 'to', 'port', 'enforce-audit', 'json']);
  const flow: Flow = { src: required(args, 'from'), dst: required(args, 'to'), ...parsePort(required(args, 'port')) };
  const loaded = loadValid(args);
  if (typeof loaded === 'number') return loaded;
  const x = explain(policiesFor(args, loaded), loaded.inventory, flow);
  out(args.flags.has('json') ? JSON.stringify(x, null, 2) : explainText(x));
  return 0;
}

function connlistCommand(args: Args): number {
  only(args, ['manifests', 'enforce-audit', 'json']);
  const loaded = loadValid(args);
  if (typeof loaded === 'number') return loaded;
  const list = connlist(policiesFor(args, loaded), loaded.inventory);
  if (args.flags.has('json')) out(JSON.stringify(list, null, 2));
  else out(list.length > 0 ? connlistText(list) : 'no connections are allowed');
  return 0;
}

const LIMIT_TABLES = Object.keys(DEFAULT_LIMITS) as (keyof MapLimits)[];

/** `rules=100000,endpoints=512`: the map sizes a site is configured with; the rest keep their defaults. */
function parseLimits(text: string | undefined): MapLimits {
  const limits = { ...DEFAULT_LIMITS };
  if (text === undefined) return limits;
  for (const part of text.split(',')) {
    const m = /^([a-z]+)=(\d+)$/.exec(part.trim());
    const table = m?.[1] as keyof MapLimits | undefined;
    if (!m || !table || !LIMIT_TABLES.includes(table) || Number(m[2]) < 1) {
      throw new UsageError(`--limits ${text}: write <table>=<entries>,... with tables ${LIMIT_TABLES.join(', ')}, e.g. rules=100000`);
    }
    limits[table] = Number(m[2]);
  }
  return limits;
}

function compileCommand(args: Args): number {
  only(args, ['manifests', 'limits', 'json']);
  const limitsFlag = args.flags.get('limits');
  const limits = parseLimits(typeof limitsFlag === 'string' ? limitsFlag : undefined);
  const loaded = loadValid(args);
  if (typeof loaded === 'number') return loaded;
  let tables;
  try {
    tables = compile(loaded.policies, loaded.inventory, { limits });
  } catch (e) {
    if (!(e instanceof CapacityError)) throw e;
    if (args.flags.has('json'))
      out(JSON.stringify({ error: { code: e.code, table: e.table, needed: e.needed, limit: e.limit, message: e.message, hint: e.hint } }, null, 2));
    else err(`weft policy compile: ${formatError(e)}`);
    return 1;
  }
  if (args.flags.has('json')) {
    out(JSON.stringify(tables, null, 2));
    return 0;
  }
  const s = tables.sizes;
  out(
    `tables: ${s.endpoints} endpoints, ${s.ipcache} ipcache prefixes, ${s.sets} rule sets, ${s.rules} rule entries, ${s.identities} identities, ${s.attributions} attributions`,
  );
  out(`map limits: ${LIMIT_TABLES.map((t) => `${t} ${s[t]}/${limits[t]}`).join(', ')}`);
  for (const e of tables.endpoints) out(`  ${e.pod}: identity ${e.identity}, ingress set ${e.ingressSet || '-'}, egress set ${e.egressSet || '-'}`);
  out('(--json prints the full tables)');
  return 0;
}

const COMMANDS: Record<string, (args: Args) => number> = {
  check,
  eval: evalCommand,
  explain: explainCommand,
  connlist: connlistCommand,
  compile: compileCommand,
  convert: convertCommand,
};

export async function runPolicyCommand(sub: string, argv: string[]): Promise<number> {
  const run = Object.hasOwn(COMMANDS, sub) ? COMMANDS[sub] : undefined;
  if (!run || argv.includes('--help') || argv.includes('-h')) {
    out(`usage: ${USAGE[sub] ?? Object.values(USAGE).join('\n       ')}`);
    return run ? 0 : 2;
  }
  try {
    return run(parseArgs(argv, ['json', 'enforce-audit']));
  } catch (e) {
    // Bad input, never a bug: the coded line and its hint, no stack trace.
    if (e instanceof UsageError || e instanceof ManifestFileError || e instanceof EndpointError) {
      err(`weft policy ${sub}: ${formatError(e)}`);
      if (e instanceof UsageError) err(`usage: ${USAGE[sub]}`);
      return 2;
    }
    throw e;
  }
}
