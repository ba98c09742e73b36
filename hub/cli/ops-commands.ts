// The hub-facing `weft` commands: login, site, policy (hub side), flows, release, update. Exit 0 ok, 1 no, 2 bad usage.
import { errorCode, errorMessage } from '../../base/index.ts';
import { X509Certificate, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { credentialsPath, saveCredentials } from './credentials.ts';
import { CliFailure, Ctx, parseDuration, processIo, table, type Io } from './context.ts';
import { policyOpsCommand } from './policy-ops.ts';
import { linkCommand } from './link-commands.ts';
import { siteCommand } from './site-commands.ts';
import { releaseCommand, updateCommand } from './update-commands.ts';

async function login(ctx: Ctx, args: string[]): Promise<number> {
  const p = parseArgs({
    args,
    strict: true,
    options: {
      json: { type: 'boolean' },
      hub: { type: 'string' },
      'token-file': { type: 'string' },
      'ca-fingerprint': { type: 'string' },
      'ca-file': { type: 'string' },
    },
  });
  const hub = p.values.hub;
  if (!hub || !/^https?:\/\//.test(hub))
    throw new CliFailure(2, 'usage: weft login --hub https://<hub>:8443 --token-file <file> --ca-fingerprint <sha256 hex> (or --ca-file ca.crt)');
  const token = p.values['token-file'] ? readFileSync(p.values['token-file'], 'utf8').trim() : ctx.io.env.WEFT_TOKEN;
  if (!token) throw new CliFailure(2, 'give the API token with --token-file <file> (or WEFT_TOKEN)');
  let caPem: string | undefined;
  if (hub.startsWith('https:')) {
    if (p.values['ca-file']) caPem = readFileSync(p.values['ca-file'], 'utf8');
    else {
      const want = p.values['ca-fingerprint']?.toLowerCase().replace(/:/g, '');
      if (!want) throw new CliFailure(2, '--ca-fingerprint is required for https (the hub prints it at start; or pass --ca-file)');
      // Fetched without TLS trust, then trusted only if its fingerprint is the one given out of band.
      const ca = await ctx.api<{ certPem: string }>('GET', '/v1/ca', undefined, { hub, insecure: true });
      const got = createHash('sha256').update(new X509Certificate(ca.certPem).raw).digest('hex');
      if (got !== want) throw new CliFailure(1, `the hub's CA fingerprint is ${got}, not ${want}: wrong hub or someone in between`);
      caPem = ca.certPem;
    }
  }
  const who = await ctx.api<{ name: string; role: string }>('GET', '/v1/whoami', undefined, { hub, token, caPem });
  const path = credentialsPath(ctx.io.env);
  saveCredentials(path, { hub, token, caPem });
  ctx.out(`logged in to ${hub} as ${who.name} (${who.role}); credentials in ${path}`, { hub, ...who, credentials: path });
  return 0;
}

interface Flow {
  siteId: string;
  at: string;
  verdict: string;
  direction: string;
  src: string;
  sport: number;
  dst: string;
  dport: number;
  proto: number;
  policy: string | null;
  rule: string | null;
  count: number;
}

async function flows(ctx: Ctx, args: string[]): Promise<number> {
  const p = parseArgs({
    args,
    strict: true,
    options: {
      json: { type: 'boolean' },
      site: { type: 'string' },
      verdict: { type: 'string' },
      policy: { type: 'string' },
      since: { type: 'string' },
      limit: { type: 'string' },
    },
  });
  const q = new URLSearchParams();
  if (p.values.site) q.set('site', p.values.site);
  if (p.values.verdict) q.set('verdict', p.values.verdict);
  if (p.values.policy) q.set('policy', p.values.policy);
  if (p.values.since)
    q.set('since', /^\d+[smhd]?$/.test(p.values.since) ? new Date(Date.now() - parseDuration(p.values.since) * 1000).toISOString() : p.values.since);
  q.set('limit', p.values.limit ?? '100');
  const rows = await ctx.api<Flow[]>('GET', `/v1/flows?${q}`);
  ctx.out(
    table([
      ['AT', 'SITE', 'VERDICT', 'DIR', 'FLOW', 'POLICY', 'COUNT'],
      ...rows.map((f) => [
        f.at,
        f.siteId,
        f.verdict,
        f.direction,
        `${f.src}:${f.sport} -> ${f.dst}:${f.dport}/${f.proto}`,
        f.policy ? `${f.policy}${f.rule ? `#${f.rule}` : ''}` : '-',
        String(f.count),
      ]),
    ]),
    rows,
  );
  return 0;
}

/** Bad flags (node:util parseArgs) and unreadable input files are usage errors; anything else is a bug. */
function asFailure(e: unknown): CliFailure | null {
  if (e instanceof CliFailure) return e;
  const code = errorCode(e) ?? '';
  return code.startsWith('ERR_PARSE_ARGS') || code === 'ENOENT' || code === 'EACCES' ? new CliFailure(2, errorMessage(e)) : null;
}

export async function runOpsCommand(argv: string[], io: Io = processIo): Promise<number> {
  const [cmd, sub, ...rest] = argv;
  const ctx = new Ctx(io, argv.includes('--json'));
  try {
    switch (cmd) {
      case 'login':
        return await login(ctx, argv.slice(1));
      case 'site':
        return await siteCommand(ctx, sub, rest);
      case 'policy':
        return await policyOpsCommand(ctx, sub, rest);
      case 'flows':
        return await flows(ctx, argv.slice(1));
      case 'release':
        return await releaseCommand(ctx, sub, rest);
      case 'update':
        return await updateCommand(ctx, sub, rest);
      case 'link':
        return await linkCommand(ctx, sub, rest);
      default:
        throw new CliFailure(2, `unknown command "${cmd}": see weft --help`);
    }
  } catch (e) {
    const f = asFailure(e);
    if (!f) throw e;
    if (ctx.json) io.stdout(`${JSON.stringify({ error: f.message, details: f.details }, null, 2)}\n`);
    else io.stderr(`weft: ${f.message}\n`);
    return f.exitCode;
  }
}
