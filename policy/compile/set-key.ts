// Which rule set a pod's side gets: sides met by the same policies, in the same order, compile to
// the same set, so the key is the policies themselves (interned ids, not their names joined) and,
// when ingress rules name ports, the pod's own container ports (named ports resolve against them).
import type { Direction, Policy } from '../model.ts';
import { TupleInterner } from './interner.ts';
import type { PortSignature } from './port-signature.ts';

export type SetKey = number & { readonly __brand: 'SetKey' };

const DIRECTION_CODE: Record<Direction, number> = { ingress: 1, egress: 2 };

export class SetKeys {
  /** A policy's id is its order of first use: keys only need equal policies to get equal ids. */
  private readonly policyIds = new Map<Policy, number>();
  private readonly tuples = new TupleInterner<SetKey>();

  /** `policies`: every policy of the side in the order met (policiesMet), each in exactly one tier. */
  of(dir: Direction, policies: readonly Policy[], ports: PortSignature | null): SetKey {
    const tuple = [DIRECTION_CODE[dir], ports ?? 0];
    for (const p of policies) {
      let id = this.policyIds.get(p);
      if (id === undefined) this.policyIds.set(p, (id = this.policyIds.size + 1));
      tuple.push(id);
    }
    return this.tuples.id(tuple);
  }
}
