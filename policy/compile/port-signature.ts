// A pod's container ports as one interned id: pods whose ports agree (name, protocol, number) get
// the same id. Named ports resolve against these, so rule sets and peer classes that depend on
// named ports are keyed by it.
import type { ContainerPort } from '../inventory.ts';
import { NameIds, TupleInterner } from './interner.ts';
import { PROTO_NUMBERS } from './protocols.ts';

export type PortSignature = number & { readonly __brand: 'PortSignature' };

export class PortSignatures {
  private readonly names = new NameIds();
  private readonly tuples = new TupleInterner<PortSignature>();

  /** All the ports, named or not, as an id; their order does not matter. */
  of(ports: readonly ContainerPort[]): PortSignature {
    return this.intern(ports);
  }

  /** Only the ports with one of `names`; null when there are none. */
  ofNamed(ports: readonly ContainerPort[], names: ReadonlySet<string>): PortSignature | null {
    const own = ports.filter((cp) => cp.name !== undefined && names.has(cp.name));
    return own.length === 0 ? null : this.intern(own);
  }

  private intern(ports: readonly ContainerPort[]): PortSignature {
    // An unnamed port is named '' here, which no valid port name is.
    const triples = ports.map((cp): [number, number, number] => [this.names.id(cp.name ?? ''), PROTO_NUMBERS[cp.protocol], cp.containerPort]);
    triples.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
    return this.tuples.id(triples.flat());
  }
}
