// Where a list of rules can change its verdict along the ports: the edges of their numeric port
// ranges per protocol, and the named ports they use (which resolve to edges per destination pod).
// Between two edges every rule matches all ports or none, so one evaluation covers the segment.
import type { Protocol } from '../inventory.ts';
import type { PortSpec, Rule } from '../model.ts';
import { PROTOS } from './protocols.ts';

export type NamedPort = Extract<PortSpec, { type: 'named' }>;

export interface PortCuts {
  /** Sorted segment starts per protocol, from 0; a segment ends before the next start, the last at 65535. */
  cuts: Record<Protocol, number[]>;
  named: NamedPort[];
}

export function portCuts(rules: readonly Rule[]): PortCuts {
  const cuts = {} as PortCuts['cuts'];
  for (const proto of PROTOS) {
    const c = new Set<number>([0]);
    for (const rule of rules)
      for (const s of rule.ports ?? [])
        if (s.type === 'range' && s.protocol === proto) {
          c.add(s.from);
          c.add(s.to + 1);
        }
    cuts[proto] = [...c].filter((x) => x <= 65535).sort((a, b) => a - b);
  }
  return { cuts, named: namedPorts(rules) };
}

export function namedPorts(rules: readonly Rule[]): NamedPort[] {
  const named: NamedPort[] = [];
  for (const rule of rules) for (const s of rule.ports ?? []) if (s.type === 'named') named.push(s);
  return named;
}
