// Longest-prefix match over CIDR entries, one binary trie per address family. Besides the match it
// reports the shortest prefix of the client's address over which the answer cannot change, which is
// what an EDNS Client Subnet reply's scope must be (RFC 7871 §7.2.1) for resolvers to cache correctly.
import { bitAt, type CidrBytes, type IpBytes } from '../base/index.ts';

interface Node<T> {
  zero?: Node<T>;
  one?: Node<T>;
  value?: T;
  prefix?: number;
}

export interface TrieMatch<T> {
  value: T;
  prefix: number;
}

export interface TrieLookup<T> {
  match: TrieMatch<T> | null;
  /** Every address sharing this many leading bits with the client gets the same match. */
  scope: number;
}

export class CidrTrie<T> {
  private readonly roots: Record<4 | 6, Node<T>> = { 4: {}, 6: {} };
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds an entry; a later entry for the same network replaces the earlier one. */
  insert(cidr: CidrBytes, value: T): void {
    let node = this.roots[cidr.family];
    for (let i = 0; i < cidr.len; i++) {
      const key = bitAt(cidr.bytes, i) ? 'one' : 'zero';
      node = node[key] ??= {};
    }
    if (node.prefix === undefined) this.count++;
    node.value = value;
    node.prefix = cidr.len;
  }

  lookup(ip: IpBytes): TrieLookup<T> {
    const bits = ip.family === 4 ? 32 : 128;
    let node: Node<T> | undefined = this.roots[ip.family];
    let match: TrieMatch<T> | null = null;
    let depth = 0;
    for (;;) {
      if (node.prefix !== undefined) match = { value: node.value as T, prefix: node.prefix };
      if (depth === bits) return { match, scope: bits };
      const next: Node<T> | undefined = bitAt(ip.bytes, depth) ? node.one : node.zero;
      if (!next) {
        // Nothing deeper on the client's side: the answer holds for the whole subtree at this depth,
        // unless the other side holds more specific entries, which the next bit separates.
        const leaf = !node.zero && !node.one;
        return { match, scope: leaf ? depth : depth + 1 };
      }
      node = next;
      depth++;
    }
  }
}
