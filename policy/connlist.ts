// `connlist`: every allowed connection between the workloads, and between them and classes of
// external addresses: the communication map ops review before they enforce.
import { contextOf } from './context.ts';
import { buildIdentities } from './identities.ts';
import { resolveNodePeers } from './node-peers.ts';
import { podKey, type Inventory, type Protocol } from './inventory.ts';
import type { Direction, PolicySet } from './model.ts';
import { decideSide, type PeerView, type PodView, type Proto, type SideRules } from './side.ts';
import { combine } from './verdict.ts';

const PROTOS: Protocol[] = ['TCP', 'UDP', 'SCTP'];

export interface Connection {
  /** `<namespace>/<name>`, or the external addresses as comma-separated CIDRs (`other addresses` for the rest). */
  src: string;
  dst: string;
  /** Every protocol and port. */
  all: boolean;
  /** Allowed port ranges per protocol, inclusive. */
  ports: Record<Protocol, [number, number][]>;
}

type End = { name: string; pod: PodView | null; peer: PeerView };

type Cuts = Record<Protocol, number[]>;

/** Port edges where a side's verdict can change: its rules' numeric port ranges (named ports come from the destination pod). */
function ruleCuts(r: SideRules, dir: Direction): Cuts {
  const cuts: Record<Protocol, number[]> = { TCP: [], UDP: [], SCTP: [] };
  for (const p of [...r.admin, ...r.network, ...r.baseline])
    for (const rule of p[dir])
      for (const s of rule.ports ?? []) {
        if (s.type === 'range') cuts[s.protocol].push(Math.max(1, s.from), s.to + 1);
      }
  return cuts;
}

/** Every edge where the verdict between these two ends can change: both sides' rule edges and the destination's container ports. */
function pairCuts(sides: (Cuts | null)[], dst: PodView | null, proto: Protocol): number[] {
  const points = new Set<number>([1]);
  for (const c of sides) if (c) for (const x of c[proto]) points.add(x);
  for (const cp of dst?.pod.ports ?? []) if (cp.protocol === proto) points.add(cp.containerPort).add(cp.containerPort + 1);
  return [...points].filter((x) => x <= 65535).sort((a, b) => a - b);
}

export function connlist(given: PolicySet, inventory: Inventory): Connection[] {
  const policies = resolveNodePeers(given, inventory);
  const ctx = contextOf(policies, inventory);
  const pods = [...ctx.pods.values()].sort((a, b) => (podKey(a.pod) < podKey(b.pod) ? -1 : 1));
  const cutsMemo = new Map<SideRules, Cuts>();
  const cutsOf = (r: SideRules, dir: Direction) => {
    let c = cutsMemo.get(r);
    if (!c) cutsMemo.set(r, (c = ruleCuts(r, dir)));
    return c;
  };
  const ids = buildIdentities(policies, pods);
  const cidrsOf = new Map<number, string[]>();
  for (const e of ids.ipcache) cidrsOf.set(e.identity, [...(cidrsOf.get(e.identity) ?? []), e.cidr]);
  const externals: End[] = ids.list
    .filter((i) => i.view.kind === 'ip')
    .map((i) => ({ name: cidrsOf.get(i.id)?.join(',') ?? 'other addresses', pod: null, peer: i.view }));
  const podEnds: End[] = pods.map((v) => ({ name: podKey(v.pod), pod: v, peer: { kind: 'pod', view: v } }));

  const allowed = (src: End, dst: End, proto: Proto, port: number): boolean => {
    const egress = src.pod ? decideSide(ctx.rules(src.pod, 'egress'), 'egress', src.pod, dst.peer, proto, port) : null;
    const ingress = dst.pod ? decideSide(ctx.rules(dst.pod, 'ingress'), 'ingress', dst.pod, src.peer, proto, port) : null;
    return combine(egress, ingress).allowed;
  };
  const connection = (src: End, dst: End): Connection | null => {
    const ports = { TCP: [], UDP: [], SCTP: [] } as Connection['ports'];
    const sides = [src.pod && cutsOf(ctx.rules(src.pod, 'egress'), 'egress'), dst.pod && cutsOf(ctx.rules(dst.pod, 'ingress'), 'ingress')];
    for (const proto of PROTOS) {
      const points = pairCuts(sides, dst.pod, proto);
      points.forEach((from, i) => {
        if (!allowed(src, dst, proto, from)) return;
        const to = i + 1 < points.length ? points[i + 1] - 1 : 65535;
        const list = ports[proto];
        const last = list[list.length - 1];
        if (last && last[1] + 1 === from) last[1] = to;
        else list.push([from, to]);
      });
    }
    const full = PROTOS.every((p) => ports[p].length === 1 && ports[p][0][0] === 1 && ports[p][0][1] === 65535);
    const all = full && allowed(src, dst, 'OTHER', 0);
    return PROTOS.some((p) => ports[p].length > 0) ? { src: src.name, dst: dst.name, all, ports } : null;
  };

  const out: Connection[] = [];
  for (const s of podEnds)
    for (const d of podEnds)
      if (s !== d) {
        const c = connection(s, d);
        if (c) out.push(c);
      }
  for (const e of externals)
    for (const p of podEnds) {
      for (const c of [connection(e, p), connection(p, e)]) if (c) out.push(c);
    }
  return out;
}

export function describeConnection(c: Connection): string {
  if (c.all) return 'All Connections';
  return PROTOS.filter((p) => c.ports[p].length > 0)
    .map((p) => `${p} ${c.ports[p].map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(',')}`)
    .join('; ');
}

export function connlistText(list: Connection[]): string {
  return list.map((c) => `${c.src} => ${c.dst} : ${describeConnection(c)}`).join('\n');
}
