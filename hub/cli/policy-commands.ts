// `weft policy check|eval|explain|connlist|compile`: local policy tools over manifest files.
// Exit codes: 0 success, 1 the answer is "no" (invalid manifests), 2 bad usage or input.
import { readFileSync } from 'node:fs';
import { EndpointError, evaluate, formatError, loadPolicies, parseManifests, type Flow, type Loaded, type PolicyError } from '../../policy/index.ts';
import { only, parseArgs, required, UsageError, type Args } from './cli-args.ts';
import { ManifestFileError, readManifestFiles } from './manifest-files.ts';

const USAGE: Record<string, string> = {
  check: 'weft policy check <files|dirs...> [--json]',
  eval: 'weft policy eval --manifests <dir> --queries <file.json>',
  explain: 'weft policy explain --manifests <dir> --from <E> --to <E> --port 443/TCP [--json]',
  connlist: 'weft policy connlist --manifests <dir> [--json]',
  compile: 'weft policy compile --manifests <dir> [--json]',
};

const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
const err = (s: string) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`);

/** Reads, parses and validates manifests; every error is collected. */
export function loadManifests(paths: readonly string[]): Loaded {
  const { objects, errors } = parseManifests(readManifestFiles(paths));
  const loaded = loadPolicies(objects);
  return { ...loaded, errors: [...errors, ...loaded.errors] };
}

function printErrors(errors: readonly PolicyError[], json: boolean): void {
  if (json) out(JSON.stringify({ valid: false, errors }, null, 2));
  else {
    for (const e of errors) err(formatError(e));
    err(`${errors.length} error${errors.length === 1 ? '' : 's'}`);
  }
}

/** For commands that need valid manifests: invalid ones are bad input (exit 2). */
function loadValid(args: Args): Loaded | number {
  const loaded = loadManifests([required(args, 'manifests')]);
  if (loaded.errors.length > 0) {
    printErrors(loaded.errors, args.flags.has('json'));
    return 2;
  }
  return loaded;
}

function check(args: Args): number {
  only(args, ['json']);
  if (args.positionals.length === 0) throw new UsageError('name at least one file or directory');
  const { policies, inventory, errors } = loadManifests(args.positionals);
  if (errors.length > 0) {
    printErrors(errors, args.flags.has('json'));
    return 1;
  }
  const counts = { adminNetworkPolicies: policies.admin.length, networkPolicies: policies.network.length, baselineAdminNetworkPolicies: policies.baseline ? 1 : 0, namespaces: inventory.namespaces.length, pods: inventory.pods.length };
  if (args.flags.has('json')) out(JSON.stringify({ valid: true, ...counts }, null, 2));
  else out(`valid: ${counts.adminNetworkPolicies} AdminNetworkPolicy, ${counts.networkPolicies} NetworkPolicy, ${counts.baselineAdminNetworkPolicies} BaselineAdminNetworkPolicy; ${counts.namespaces} namespaces, ${counts.pods} pods/workloads`);
  return 0;
}

const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];

function readQueries(file: string): Flow[] {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`${file}: ${e instanceof Error ? e.message : String(e)}`);
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
      if (e instanceof EndpointError) throw new UsageError(`queries[${i}]: ${e.message} (${e.code})${e.hint ? `\n  hint: ${e.hint}` : ''}`);
      throw e;
    }
  });
  out(JSON.stringify(results));
  return 0;
}

const COMMANDS: Record<string, (args: Args) => number> = { check, eval: evalCommand };

export async function runPolicyCommand(sub: string, argv: string[]): Promise<number> {
  const run = Object.hasOwn(COMMANDS, sub) ? COMMANDS[sub] : undefined;
  if (!run || argv.includes('--help') || argv.includes('-h')) {
    out(`usage: ${USAGE[sub] ?? Object.values(USAGE).join('\n       ')}`);
    return run ? 0 : 2;
  }
  try {
    return run(parseArgs(argv));
  } catch (e) {
    if (e instanceof UsageError || e instanceof ManifestFileError) {
      err(`weft policy ${sub}: ${e.message}`);
      if (e instanceof UsageError) err(`usage: ${USAGE[sub]}`);
      return 2;
    }
    throw e;
  }
}
