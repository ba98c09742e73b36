// weft policy what-if <version>: the candidate version against the flows recorded at the sites a rollout
// would target (POST /v1/policies/what-if, the dashboard's What-if page asks the same). Exit 1 when it
// would deny a flow allowed today, so a pipeline can stop before the rollout.
import { parseArgs } from 'node:util';
import { CliFailure, type Ctx, parseDuration } from './context.ts';

interface Group {
  policy: string;
  rule: string;
  flows: { siteId: string; endpoint: string; direction: 'ingress' | 'egress'; peer: string; protocol: string; port: number; count: number }[];
}
interface Answer {
  version: number;
  sites: number;
  flows: number;
  evaluated: number;
  since: string;
  until: string;
  newlyDenied: Group[];
  newlyAllowed: Group[];
}

function lines(title: string, groups: Group[]): string[] {
  if (!groups.length) return [`${title}: none`];
  return [
    `${title}:`,
    ...groups.flatMap((g) => [
      `  ${g.policy} ${g.rule} (${g.flows.length})`,
      ...g.flows.map(
        (f) =>
          `    ${f.siteId} ${f.direction === 'ingress' ? `${f.peer} -> ${f.endpoint}` : `${f.endpoint} -> ${f.peer}`}:${f.port}/${f.protocol} seen ${f.count}x`,
      ),
    ]),
  ];
}

export async function whatIfCommand(ctx: Ctx, args: string[]): Promise<number> {
  const p = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: { json: { type: 'boolean' }, selector: { type: 'string', short: 'l' }, window: { type: 'string' } },
  });
  if (p.positionals.length !== 1 || !/^\d+$/.test(p.positionals[0]))
    throw new CliFailure(2, 'usage: weft policy what-if <version> [--selector k=v,...] [--window 24h]');
  const a = await ctx.api<Answer>('POST', '/v1/policies/what-if', {
    version: Number(p.positionals[0]),
    selector: p.values.selector ?? '',
    windowS: p.values.window ? parseDuration(p.values.window) : 86400,
  });
  ctx.out(
    [
      `version ${a.version} against ${a.flows} recorded flows at ${a.sites} sites (${a.since} .. ${a.until}, ${a.evaluated} evaluated)`,
      ...lines('would deny, allowed today', a.newlyDenied),
      ...lines('would allow, denied today', a.newlyAllowed),
    ].join('\n'),
    a,
  );
  return a.newlyDenied.length ? 1 : 0;
}
