// weft link add|list|rm: site links (issue 22). `weft link add a b` links two sites;
// `weft link add --from region=north --to kind=warehouse [--same region]` links by labels.
import { parseArgs } from 'node:util';
import { CliFailure, table, type Ctx } from './context.ts';

interface LinkSpecView {
  kind: 'pair' | 'selector';
  a?: string;
  b?: string;
  from?: Record<string, string>;
  to?: Record<string, string>;
  same?: string[];
}
interface Link {
  id: number;
  spec: LinkSpecView;
  createdBy: string;
  createdAt: number;
}
interface PathView {
  from: string;
  to: string;
  state: string;
  handshakeAgeS: number | null;
}
interface LinksView {
  links: Link[];
  pairs: { a: string; b: string; links: number[]; paths: PathView[] }[];
}

const USAGE = 'usage: weft link add <site> <site> | weft link add --from k=v[,k=v] --to k=v[,k=v] [--same key] | weft link list | weft link rm <id>';

function labels(s: string | undefined, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of (s ?? '').split(',').filter(Boolean)) {
    const i = item.indexOf('=');
    if (i <= 0) throw new CliFailure(2, `--${what} ${item}: want key=value[,key=value]`);
    out[item.slice(0, i)] = item.slice(i + 1);
  }
  return out;
}

const kv = (l: Record<string, string> = {}) =>
  Object.entries(l)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

const describe = (s: LinkSpecView) =>
  s.kind === 'pair' ? `${s.a} <-> ${s.b}` : `${kv(s.from)} <-> ${kv(s.to)}${s.same?.length ? ` (same ${s.same.join(',')})` : ''}`;

const path = (p: PathView | undefined) => (p ? `${p.state}${p.handshakeAgeS !== null ? ` (${Math.round(p.handshakeAgeS)}s)` : ''}` : '-');

export async function linkCommand(ctx: Ctx, sub: string | undefined, args: string[]): Promise<number> {
  switch (sub) {
    case 'add': {
      const p = parseArgs({
        args,
        allowPositionals: true,
        strict: true,
        options: { json: { type: 'boolean' }, from: { type: 'string' }, to: { type: 'string' }, same: { type: 'string', multiple: true } },
      });
      const v = p.values;
      let body: object;
      if (p.positionals.length === 2 && !v.from && !v.to) body = { a: p.positionals[0], b: p.positionals[1] };
      else if (p.positionals.length === 0 && v.from && v.to) body = { from: labels(v.from, 'from'), to: labels(v.to, 'to'), same: v.same ?? [] };
      else throw new CliFailure(2, USAGE);
      const link = await ctx.api<Link>('POST', '/v1/links', body);
      ctx.out(`link ${link.id}: ${describe(link.spec)}`, link);
      return 0;
    }
    case 'list': {
      parseArgs({ args, strict: true, options: { json: { type: 'boolean' } } });
      const view = await ctx.api<LinksView>('GET', '/v1/links');
      const links = table([['LINK', 'DECLARES', 'BY'], ...view.links.map((l) => [String(l.id), describe(l.spec), l.createdBy])]);
      const pairs = table([
        ['A', 'B', 'LINKS', 'A -> B', 'B -> A'],
        ...view.pairs.map((p) => [p.a, p.b, p.links.join(','), path(p.paths.find((x) => x.from === p.a)), path(p.paths.find((x) => x.from === p.b))]),
      ]);
      ctx.out(`${links}\n\n${pairs}`, view);
      return 0;
    }
    case 'rm': {
      const p = parseArgs({ args, allowPositionals: true, strict: true, options: { json: { type: 'boolean' } } });
      const id = Number(p.positionals[0]);
      if (p.positionals.length !== 1 || !Number.isSafeInteger(id)) throw new CliFailure(2, USAGE);
      await ctx.api('DELETE', `/v1/links/${id}`);
      ctx.out(`removed link ${id}`, { removed: id });
      return 0;
    }
    default:
      throw new CliFailure(2, USAGE);
  }
}
