// Dense ids for tuples of small integers: the compiler's keys (which policies a rule set is built
// from, a pod's container ports) are tuples of ids, interned through a trie of maps rather than
// joined into long strings. Equal tuples get the same id; ids start at 1.

interface Node {
  readonly next: Map<number, Node>;
  id: number;
}

/** `Id` brands the ids of one interner so that two kinds of key cannot be mixed up. */
export class TupleInterner<Id extends number> {
  private readonly root: Node = { next: new Map(), id: 0 };
  private count = 0;

  id(tuple: readonly number[]): Id {
    let node = this.root;
    for (const x of tuple) {
      let n = node.next.get(x);
      if (!n) node.next.set(x, (n = { next: new Map(), id: 0 }));
      node = n;
    }
    if (node.id === 0) node.id = ++this.count;
    return node.id as Id;
  }
}

/** Dense ids for strings (names), from 0 in order of first use. */
export class NameIds {
  private readonly ids = new Map<string, number>();

  id(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) this.ids.set(name, (id = this.ids.size));
    return id;
  }
}
