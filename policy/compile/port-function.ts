// One peer class's verdicts over every protocol and port: side.ts decides once per port segment
// (cut where the rules that hold the peer can change their answer), adjacent equal segments merge.
import type { Protocol } from '../inventory.ts';
import type { Direction } from '../model.ts';
import { decideSide, type PeerTest, type PeerView, type PodView, type SideRules } from '../side.ts';
import type { RuleValue } from '../tables.ts';
import type { PortCuts } from './port-cuts.ts';
import { PROTOS } from './protocols.ts';
import type { RuleValues } from './rule-values.ts';

export interface Segment {
  from: number;
  to: number;
  value: RuleValue;
}

/** A side's verdict for one peer: port segments per protocol, and the value for any other protocol. */
export interface PortFunction {
  other: RuleValue;
  segments: Record<Protocol, Segment[]>;
}

/** What decides for one peer: the side, the peer, and which rules hold it. */
export interface PeerScope {
  rules: SideRules;
  dir: Direction;
  self: PodView;
  peer: PeerView;
  peerOk: PeerTest;
  /** Cuts of the rules that hold the peer: the others never match it, whatever the port. */
  cuts: PortCuts;
}

export function portFunction(s: PeerScope, values: RuleValues): PortFunction {
  const decide = (proto: Protocol | 'OTHER', port: number) => values.of(decideSide(s.rules, s.dir, s.self, s.peer, proto, port, s.peerOk));
  const segments = {} as PortFunction['segments'];
  for (const proto of PROTOS) {
    const points = segmentStarts(s, proto);
    const segs: Segment[] = [];
    for (let i = 0; i < points.length; i++) {
      const from = points[i];
      const to = i + 1 < points.length ? points[i + 1] - 1 : 65535;
      const value = decide(proto, from);
      const last = segs[segs.length - 1];
      if (last && last.value === value) last.to = to;
      else segs.push({ from, to, value });
    }
    segments[proto] = segs;
  }
  return { other: decide('OTHER', 0), segments };
}

/** The cuts of one protocol, with the named ports resolved against the destination pod. */
function segmentStarts(s: PeerScope, proto: Protocol): number[] {
  const points = s.cuts.cuts[proto];
  // Named ports resolve against the destination: this pod for ingress, the peer for egress.
  const dst = s.dir === 'ingress' ? s.self.pod : s.peer.kind === 'pod' ? s.peer.view.pod : null;
  if (!dst || s.cuts.named.length === 0) return points;
  const extra: number[] = [];
  for (const spec of s.cuts.named)
    if (spec.protocol === null || spec.protocol === proto) {
      for (const cp of dst.ports) if (cp.name === spec.name && cp.protocol === proto) extra.push(cp.containerPort, cp.containerPort + 1);
    }
  if (extra.length === 0) return points;
  return [...new Set([...points, ...extra])].filter((x) => x <= 65535).sort((a, b) => a - b);
}
