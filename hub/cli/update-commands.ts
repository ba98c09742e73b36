// `weft release upload|list` and `weft update rollout|status|pause|resume|list|fleet`: agent releases
// and their staged rollouts (docs/ops.md "Agent updates").
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FileBody } from './api-client.ts';
import { CliFailure, type Ctx, table } from './context.ts';

interface Release {
  version: string;
  kind: string;
  sha256: string;
  size: number;
  minHubVersion: string;
  complete: boolean;
  uploadedAt: number;
}
interface UpdateSiteRow {
  siteId: string;
  result: string | null;
  code: string | null;
  reason: string | null;
}
interface UpdateStatus {
  rollout: { id: number; version: string; state: string; stage: number; reason: string | null };
  stages: { index: number; name: string; sites: UpdateSiteRow[]; blessed: number; failed: number; pending: number }[];
}
interface FleetRow {
  siteId: string;
  version: string | null;
  lastUpdate: { version: string; state: string; code: string | null; reason: string | null } | null;
}

/** The manifests to upload: a file, or every *.release.json of a release folder (npm run build:release). */
function manifests(path: string): string[] {
  if (!existsSync(path)) throw new CliFailure(2, `${path} does not exist`);
  if (!statSync(path).isDirectory()) return [path];
  const found = readdirSync(path)
    .filter((f) => f.endsWith('.release.json'))
    .map((f) => join(path, f));
  if (!found.length) throw new CliFailure(2, `${path} holds no *.release.json`);
  return found;
}

async function release(ctx: Ctx, sub: string | undefined, args: string[]): Promise<number> {
  const p = parseArgs({ args, strict: true, allowPositionals: true, options: { json: { type: 'boolean' } } });
  if (sub === 'upload') {
    const [path] = p.positionals;
    if (!path) throw new CliFailure(2, 'usage: weft release upload <release dir | file.release.json>');
    const done: Release[] = [];
    for (const m of manifests(path)) {
      const signed = JSON.parse(readFileSync(m, 'utf8')) as unknown;
      const r = await ctx.api<Release>('POST', '/v1/releases', signed);
      const artifact = m.replace(/\.release\.json$/, '');
      done.push(await ctx.api<Release>('PUT', `/v1/releases/${encodeURIComponent(r.version)}/${r.kind}/artifact`, new FileBody(artifact)));
    }
    ctx.out(done.map((r) => `uploaded ${r.kind} ${r.version} (${(r.size / 2 ** 20).toFixed(1)} MiB, needs hub ${r.minHubVersion})`).join('\n'), done);
    return 0;
  }
  if (sub === 'list') {
    const rs = await ctx.api<Release[]>('GET', '/v1/releases');
    ctx.out(
      table([
        ['VERSION', 'KIND', 'SIZE', 'MIN HUB', 'COMPLETE', 'SHA256'],
        ...rs.map((r) => [r.version, r.kind, `${(r.size / 2 ** 20).toFixed(1)} MiB`, r.minHubVersion, r.complete ? 'yes' : 'no', r.sha256.slice(0, 16)]),
      ]),
      rs,
    );
    return 0;
  }
  throw new CliFailure(2, 'usage: weft release upload|list');
}

function showStatus(s: UpdateStatus): string {
  const head = `update ${s.rollout.id}: ${s.rollout.version} ${s.rollout.state}${s.rollout.reason ? ` (${s.rollout.reason})` : ''}`;
  const rows = s.stages.flatMap((st) => st.sites.map((x) => [st.name, x.siteId, x.result ?? 'pending', [x.code, x.reason].filter(Boolean).join(' ')]));
  return `${head}\n${table([['STAGE', 'SITE', 'RESULT', 'WHY'], ...rows])}`;
}

async function update(ctx: Ctx, sub: string | undefined, args: string[]): Promise<number> {
  const p = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      json: { type: 'boolean' },
      canary: { type: 'string' },
      percents: { type: 'string' },
      selector: { type: 'string' },
      'deadline-s': { type: 'string' },
    },
  });
  const [arg] = p.positionals;
  switch (sub) {
    case 'rollout': {
      if (!arg) throw new CliFailure(2, 'usage: weft update rollout <version> [--canary site,site] [--percents 10,50] [--selector k=v] [--deadline-s 120]');
      const body = {
        version: arg,
        selector: p.values.selector ?? '',
        canary: p.values.canary ? p.values.canary.split(',') : undefined,
        percents: p.values.percents ? p.values.percents.split(',').map(Number) : undefined,
        deadlineS: p.values['deadline-s'] ? Number(p.values['deadline-s']) : undefined,
      };
      const s = await ctx.api<UpdateStatus>('POST', '/v1/updates', body);
      ctx.out(showStatus(s), s);
      return 0;
    }
    case 'status': {
      if (!arg) throw new CliFailure(2, 'usage: weft update status <id>');
      const s = await ctx.api<UpdateStatus>('GET', `/v1/updates/${Number(arg)}`);
      ctx.out(showStatus(s), s);
      return s.rollout.state === 'failed' ? 1 : 0;
    }
    case 'pause':
    case 'resume': {
      if (!arg) throw new CliFailure(2, `usage: weft update ${sub} <id>`);
      const r = await ctx.api<UpdateStatus['rollout']>('POST', `/v1/updates/${Number(arg)}/${sub}`, {});
      ctx.out(`update ${r.id}: ${r.state}`, r);
      return 0;
    }
    case 'list': {
      const rs = await ctx.api<UpdateStatus['rollout'][]>('GET', '/v1/updates');
      ctx.out(
        table([['ID', 'VERSION', 'STATE', 'STAGE', 'REASON'], ...rs.map((r) => [String(r.id), r.version, r.state, String(r.stage), r.reason ?? ''])]),
        rs,
      );
      return 0;
    }
    case 'fleet': {
      const rows = await ctx.api<FleetRow[]>('GET', '/v1/fleet/versions');
      ctx.out(
        table([
          ['SITE', 'VERSION', 'LAST UPDATE', 'WHY'],
          ...rows.map((r) => [
            r.siteId,
            r.version ?? '?',
            r.lastUpdate ? `${r.lastUpdate.version} ${r.lastUpdate.state}` : '',
            [r.lastUpdate?.code, r.lastUpdate?.reason].filter(Boolean).join(' '),
          ]),
        ]),
        rows,
      );
      return 0;
    }
    default:
      throw new CliFailure(2, 'usage: weft update rollout|status|pause|resume|list|fleet');
  }
}

export { release as releaseCommand, update as updateCommand };
