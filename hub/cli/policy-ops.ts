// weft policy push|diff|history|what-if|rollout|status|pause|resume|rollback: the hub side of policy.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { formatError, errorMessage } from '../../base/index.ts';
import { PolicyError, type PolicyErrorCode } from '../../policy/index.ts';
import { CliFailure, parseDuration, table, type Ctx } from './context.ts';
import { whatIfCommand } from './what-if-command.ts';

interface StageStatus {
  index: number;
  name: string;
  applied: number;
  rejected: number;
  pending: number;
  sites: { siteId: string; generation: number | null; result: string | null; code: string | null; reason: string | null }[];
}
interface RolloutStatus {
  rollout: { id: number; kind: string; policyVersion: number; state: string; stage: number; reason: string | null };
  stages: StageStatus[];
}

const MANIFEST = /\.(ya?ml|json)$/;

function collect(path: string, out: string[]): void {
  if (statSync(path).isDirectory()) {
    for (const name of readdirSync(path).sort()) {
      const p = join(path, name);
      if (statSync(p).isDirectory() || MANIFEST.test(name)) collect(p, out);
    }
  } else out.push(path);
}

export function readManifests(paths: string[]): { name: string; content: string }[] {
  const files: string[] = [];
  for (const p of paths) {
    try {
      collect(p, files);
    } catch (e) {
      throw new CliFailure(2, `cannot read ${p}: ${errorMessage(e)}`);
    }
  }
  if (!files.length) throw new CliFailure(2, 'no .yaml, .yml or .json files found');
  return files.map((f) => ({ name: relative(process.cwd(), f) || f, content: readFileSync(f, 'utf8') }));
}

function printRollout(ctx: Ctx, s: RolloutStatus): void {
  const r = s.rollout;
  const head = `rollout ${r.id} (${r.kind} of version ${r.policyVersion}): ${r.state}${r.reason ? ` - ${r.reason}` : ''}`;
  const rows = s.stages.flatMap((st) =>
    st.sites.map((x) => [
      `${st.index}:${st.name}${st.index === r.stage && r.state === 'running' ? '*' : ''}`,
      x.siteId,
      x.generation === null ? '-' : String(x.generation),
      x.result ?? (x.generation === null ? 'waiting' : 'pending'),
      [x.code, x.reason].filter(Boolean).join(' '),
    ]),
  );
  ctx.out([head, table([['STAGE', 'SITE', 'GEN', 'RESULT', 'REASON'], ...rows])].join('\n'), s);
}

async function wait(ctx: Ctx, id: number, timeoutS: number): Promise<RolloutStatus> {
  const deadline = Date.now() + timeoutS * 1000;
  for (;;) {
    const s = await ctx.api<RolloutStatus>('GET', `/v1/rollouts/${id}`);
    if (s.rollout.state !== 'running' || Date.now() > deadline) return s;
    await new Promise((r) => setTimeout(r, 500));
  }
}

const exitOf = (s: RolloutStatus) => (s.rollout.state === 'failed' ? 1 : 0);

export async function policyOpsCommand(ctx: Ctx, sub: string | undefined, args: string[]): Promise<number> {
  switch (sub) {
    case 'push': {
      const p = parseArgs({ args, allowPositionals: true, strict: true, options: { json: { type: 'boolean' }, message: { type: 'string', short: 'm' } } });
      if (!p.values.message) throw new CliFailure(2, 'usage: weft policy push <files|dirs...> -m "<why>"');
      try {
        const v = await ctx.api<{ version: number; objects: number; warnings?: ReturnType<PolicyError['toJSON']>[] }>('POST', '/v1/policies', {
          files: readManifests(p.positionals),
          message: p.values.message,
        });
        const warnings = (v.warnings ?? []).map((x) => `warning: ${formatError(new PolicyError(x.code, x, x.message, x.hint))}\n`);
        ctx.out(
          `${warnings.join('')}pushed version ${v.version} (${v.objects} objects): roll it out with \`weft policy rollout ${v.version} --canary <site>\``,
          v,
        );
        return 0;
      } catch (e) {
        const errors =
          e instanceof CliFailure
            ? (e.details as { errors?: { code: PolicyErrorCode; file: string; doc: number; path: string; message: string; hint?: string }[] } | undefined)
                ?.errors
            : undefined;
        if (!errors?.length) throw e;
        const text = errors.map((x) => formatError(new PolicyError(x.code, x, x.message, x.hint))).join('\n');
        throw new CliFailure(2, `${errorMessage(e)}\n${text}`, { errors });
      }
    }
    case 'history': {
      const p = parseArgs({ args, strict: true, options: { json: { type: 'boolean' }, limit: { type: 'string' } } });
      const h = await ctx.api<{ version: number; author: string; message: string; createdAt: number }[]>(
        'GET',
        `/v1/policies?limit=${Number(p.values.limit ?? 20)}`,
      );
      ctx.out(
        table([['VERSION', 'WHEN', 'AUTHOR', 'MESSAGE'], ...h.map((v) => [String(v.version), new Date(v.createdAt).toISOString(), v.author, v.message])]),
        h,
      );
      return 0;
    }
    case 'diff': {
      const p = parseArgs({ args, allowPositionals: true, strict: true, options: { json: { type: 'boolean' } } });
      if (p.positionals.length !== 2 || !p.positionals.every((x) => /^\d+$/.test(x)))
        throw new CliFailure(2, 'usage: weft policy diff <from-version> <to-version>  (0: the empty set)');
      const d = await ctx.api<{ objects: { added: string[]; removed: string[]; changed: string[] }; lines: string[] }>(
        'GET',
        `/v1/policies/diff?from=${p.positionals[0]}&to=${p.positionals[1]}`,
      );
      const summary = [
        ...d.objects.added.map((k) => `added   ${k}`),
        ...d.objects.removed.map((k) => `removed ${k}`),
        ...d.objects.changed.map((k) => `changed ${k}`),
      ];
      ctx.out([...summary, '', ...d.lines.filter((l) => !l.startsWith(' '))].join('\n'), d);
      return 0;
    }
    case 'rollout': {
      const p = parseArgs({
        args,
        allowPositionals: true,
        strict: true,
        options: {
          json: { type: 'boolean' },
          selector: { type: 'string', short: 'l' },
          canary: { type: 'string' },
          stages: { type: 'string' },
          'audit-window': { type: 'string' },
          force: { type: 'boolean' },
          wait: { type: 'boolean' },
          timeout: { type: 'string' },
        },
      });
      if (p.positionals.length !== 1 || !/^\d+$/.test(p.positionals[0])) {
        throw new CliFailure(
          2,
          'usage: weft policy rollout <version> [--selector k=v,...] [--canary site,site] [--stages 10,50] [--audit-window 10m] [--wait]',
        );
      }
      const percents = p.values.stages ? p.values.stages.split(',').map(Number) : undefined;
      if (percents?.some((x) => !(x > 0 && x <= 100))) throw new CliFailure(2, `--stages ${p.values.stages}: want percentages within 1..100, e.g. 10,50`);
      let s = await ctx.api<RolloutStatus>('POST', '/v1/rollouts', {
        version: Number(p.positionals[0]),
        selector: p.values.selector ?? '',
        canary: p.values.canary?.split(',').filter(Boolean),
        percents,
        auditWindowS: p.values['audit-window'] ? parseDuration(p.values['audit-window']) : 0,
        force: p.values.force ?? false,
      });
      if (p.values.wait) s = await wait(ctx, s.rollout.id, p.values.timeout ? parseDuration(p.values.timeout) : 600);
      printRollout(ctx, s);
      return exitOf(s);
    }
    case 'status': {
      const p = parseArgs({
        args,
        allowPositionals: true,
        strict: true,
        options: { json: { type: 'boolean' }, wait: { type: 'boolean' }, timeout: { type: 'string' } },
      });
      let id = p.positionals[0] !== undefined ? Number(p.positionals[0]) : undefined;
      if (id === undefined) {
        const latest = await ctx.api<{ id: number }[]>('GET', '/v1/rollouts?limit=1');
        if (!latest.length) throw new CliFailure(1, 'no rollout yet');
        id = latest[0].id;
      }
      if (!Number.isInteger(id)) throw new CliFailure(2, 'usage: weft policy status [<rollout id>] [--wait]');
      const s = p.values.wait
        ? await wait(ctx, id, p.values.timeout ? parseDuration(p.values.timeout) : 600)
        : await ctx.api<RolloutStatus>('GET', `/v1/rollouts/${id}`);
      printRollout(ctx, s);
      return exitOf(s);
    }
    case 'what-if':
      return whatIfCommand(ctx, args);
    case 'pause':
    case 'resume': {
      const p = parseArgs({ args, allowPositionals: true, strict: true, options: { json: { type: 'boolean' } } });
      if (p.positionals.length !== 1 || !/^\d+$/.test(p.positionals[0])) throw new CliFailure(2, `usage: weft policy ${sub} <rollout id>`);
      const s = await ctx.api<RolloutStatus>('POST', `/v1/rollouts/${p.positionals[0]}/${sub}`, {});
      printRollout(ctx, s);
      return 0;
    }
    case 'rollback': {
      const p = parseArgs({ args, strict: true, options: { json: { type: 'boolean' }, rollout: { type: 'string' }, wait: { type: 'boolean' } } });
      let s = await ctx.api<RolloutStatus>('POST', '/v1/rollouts/rollback', p.values.rollout ? { rollout: Number(p.values.rollout) } : {});
      if (p.values.wait) s = await wait(ctx, s.rollout.id, 600);
      printRollout(ctx, s);
      return exitOf(s);
    }
    default:
      throw new CliFailure(2, 'usage: weft policy push|diff|history|what-if|rollout|status|pause|resume|rollback ...');
  }
}
