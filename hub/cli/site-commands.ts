// weft site create|list|show|token|revoke|drain|undrain|revoke-node
import { writeFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliFailure, parseDuration, table, type Ctx } from './context.ts';

interface Site {
  id: string;
  state: string;
  drained: boolean;
  labels: Record<string, string>;
  overlayAddresses: string[];
  generation: number;
  policyVersion: number | null;
  lastAck: { generation: number; result: string; code: string | null } | null;
  health: { health: string; kernelEnforcing: boolean | null; notEnforcing: { code: string; reason: string } | null } | null;
  nodes?: NodeView[];
  nodeDownGraceS?: number;
}

interface NodeView {
  name: string;
  state: string;
  health: string;
  appliedGeneration: number | null;
  tunnelHandshakeAgeS: number | null;
  agentVersion: string | null;
  overlayAddresses: string[];
  serves: string[] | null;
  leftOutOfRollouts: boolean;
}

const NODE_HEADER = ['NODE', 'STATE', 'HEALTH', 'GEN', 'TUNNEL', 'AGENT', 'OVERLAY', 'SERVES'];

const nodeLine = (n: NodeView) => [
  n.name,
  n.state,
  n.health + (n.leftOutOfRollouts ? ',left out of rollouts' : ''),
  n.appliedGeneration === null ? '-' : String(n.appliedGeneration),
  n.tunnelHandshakeAgeS === null ? '-' : `${n.tunnelHandshakeAgeS} s`,
  n.agentVersion ?? '-',
  n.overlayAddresses[0] ?? '-',
  n.serves?.join(',') || '-',
];

const HEADER = ['SITE', 'STATE', 'HEALTH', 'LABELS', 'OVERLAY', 'GEN', 'LAST ACK'];

/** `online`, or `degraded,NOT ENFORCING (DATAPATH_LOAD)`: a site that filters nothing must stand out. */
function healthCell(h: Site['health']): string {
  if (!h) return '-';
  return h.kernelEnforcing === false ? `${h.health},NOT ENFORCING (${h.notEnforcing?.code ?? 'unknown'})` : h.health;
}

function kv(list: string[] | undefined, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list ?? []) {
    const i = item.indexOf('=');
    if (i <= 0) throw new CliFailure(2, `--${what} ${item}: want key=value`);
    out[item.slice(0, i)] = item.slice(i + 1);
  }
  return out;
}

/** `pos=10.1.0.5,fd00::5@https://store-1.example.com` */
function service(s: string): { name: string; addresses: string[]; url?: string } {
  const m = /^([a-z0-9-]+)=([^@]*)(?:@(.+))?$/.exec(s);
  if (!m) throw new CliFailure(2, `--service ${s}: want name=addr[,addr...][@url]`);
  return { name: m[1], addresses: m[2].split(',').filter(Boolean), ...(m[3] ? { url: m[3] } : {}) };
}

function num(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new CliFailure(2, `--${name} ${v}: want a number`);
  return n;
}

const line = (s: Site) => [
  s.id,
  s.state + (s.drained ? ',drained' : ''),
  healthCell(s.health),
  Object.entries(s.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(','),
  s.overlayAddresses[0] ?? '-',
  String(s.generation),
  s.lastAck ? `${s.lastAck.result}@${s.lastAck.generation}` : '-',
];

export async function siteCommand(ctx: Ctx, sub: string | undefined, args: string[]): Promise<number> {
  const one = (extra: ParseArgsConfig['options'] = {}) => {
    const p = parseArgs({ args, allowPositionals: true, strict: true, options: { json: { type: 'boolean' }, ...extra } });
    if (p.positionals.length !== 1) throw new CliFailure(2, `usage: weft site ${sub} <site>`);
    return { id: p.positionals[0], values: p.values as Record<string, string | boolean | string[] | undefined> };
  };
  switch (sub) {
    case 'create': {
      const { id, values: v } = one({
        label: { type: 'string', multiple: true },
        lat: { type: 'string' },
        lon: { type: 'string' },
        cidr: { type: 'string', multiple: true },
        capacity: { type: 'string' },
        service: { type: 'string', multiple: true },
      });
      const body = {
        name: id,
        labels: kv(v.label as string[] | undefined, 'label'),
        lat: num(v.lat as string, 'lat'),
        lon: num(v.lon as string, 'lon'),
        clientCidrs: (v.cidr as string[] | undefined) ?? [],
        capacity: num(v.capacity as string, 'capacity'),
        services: ((v.service as string[] | undefined) ?? []).map(service),
      };
      const s = await ctx.api<Site>('POST', '/v1/sites', body);
      ctx.out(`created site ${s.id}: issue its enrollment token with \`weft site token ${s.id} --provision-file weft-provision.json\``, s);
      return 0;
    }
    case 'list': {
      const p = parseArgs({ args, strict: true, options: { json: { type: 'boolean' }, all: { type: 'boolean' } } });
      const sites = await ctx.api<Site[]>('GET', `/v1/sites${p.values.all ? '?all=true' : ''}`);
      ctx.out(table([HEADER, ...sites.map(line)]), sites);
      return 0;
    }
    case 'show': {
      const { id } = one();
      const s = await ctx.api<Site & { acks: { generation: number; result: string; code: string | null; reason: string | null; at: string }[] }>(
        'GET',
        `/v1/sites/${encodeURIComponent(id)}`,
      );
      const acks = s.acks.map((a) => `  gen ${a.generation} ${a.result}${a.code ? ` ${a.code}` : ''}${a.reason ? `: ${a.reason}` : ''} at ${a.at}`);
      ctx.out(
        [
          table([HEADER, line(s)]),
          ...(s.health?.notEnforcing ? [`not enforcing: ${s.health.notEnforcing.reason} (${s.health.notEnforcing.code})`] : []),
          `policy version: ${s.policyVersion ?? '-'}`,
          ...(s.nodes?.length
            ? [`nodes (a node down for ${s.nodeDownGraceS ?? '?'} s is left out of rollout stages):`, table([NODE_HEADER, ...s.nodes.map(nodeLine)])]
            : []),
          'acks:',
          ...acks,
        ].join('\n'),
        s,
      );
      return 0;
    }
    case 'token': {
      const { id, values: v } = one({ ttl: { type: 'string' }, 'provision-file': { type: 'string' }, nodes: { type: 'string' } });
      const nodes = num(v.nodes as string | undefined, 'nodes');
      const body = { ...(v.ttl ? { ttlS: parseDuration(v.ttl as string) } : {}), ...(nodes !== undefined ? { nodes } : {}) };
      const r = await ctx.api<{ token: string; expiresAt: string; provisioning: unknown }>('POST', `/v1/sites/${encodeURIComponent(id)}/token`, body);
      const what = nodes !== undefined ? `node token for ${nodes} node(s) of ${id}` : `one-time enrollment token for ${id}`;
      const file = v['provision-file'] as string | undefined;
      if (file) {
        // Holds a bearer secret: readable by its owner only.
        writeFileSync(file, `${JSON.stringify(r.provisioning, null, 2)}\n`, { mode: 0o600 });
        ctx.out(`wrote ${file} (${what}, expires ${r.expiresAt}): place it on the appliance's boot partition`, {
          file,
          expiresAt: r.expiresAt,
        });
      } else {
        ctx.out(`${r.token}\n(${what}, expires ${r.expiresAt})`, r);
      }
      return 0;
    }
    case 'revoke':
    case 'drain':
    case 'undrain': {
      const { id } = one();
      const s = await ctx.api<Site>('POST', `/v1/sites/${encodeURIComponent(id)}/${sub}`);
      ctx.out(`${sub === 'revoke' ? 'revoked' : `${sub}ed`} site ${s.id}`, s);
      return 0;
    }
    case 'revoke-node': {
      const p = parseArgs({ args, allowPositionals: true, strict: true, options: { json: { type: 'boolean' } } });
      if (p.positionals.length !== 2) throw new CliFailure(2, 'usage: weft site revoke-node <site> <node>');
      const [id, node] = p.positionals;
      const n = await ctx.api<NodeView>('POST', `/v1/sites/${encodeURIComponent(id)}/nodes/${encodeURIComponent(node)}/revoke`);
      ctx.out(`revoked node ${n.name} of site ${id}: the other nodes are untouched`, n);
      return 0;
    }
    default:
      throw new CliFailure(2, 'usage: weft site create|list|show|token|revoke|drain|undrain|revoke-node ...');
  }
}
