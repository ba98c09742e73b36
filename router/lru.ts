// A Map with an entry cap that forgets the least recently used entry first. The DNS caches key on
// what clients send (names, types, subnets), so without a cap a flood of distinct queries grows
// memory for ever; with it the oldest answers go and the ones real users ask for stay.
export class Lru<K, V> {
  private readonly map = new Map<K, V>();
  /** The key last marked as used: asking for it again (a hot name) needs no re-insertion. */
  private newest: K | undefined;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError(`LRU capacity ${capacity} must be >= 1`);
  }

  get size(): number {
    return this.map.size;
  }

  /** The value, marked as just used (a Map iterates in insertion order: re-inserting moves it last). */
  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined && key !== this.newest) {
      this.map.delete(key);
      this.map.set(key, v);
      this.newest = key;
    }
    return v;
  }

  /** Stores the value, evicting the least recently used entries past capacity. */
  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    this.newest = key;
    while (this.map.size > this.capacity) {
      const oldest = this.map.keys().next().value as K;
      this.map.delete(oldest);
    }
  }

  delete(key: K): boolean {
    if (key === this.newest) this.newest = undefined;
    return this.map.delete(key);
  }

  clear(): void {
    this.newest = undefined;
    this.map.clear();
  }

  values(): IterableIterator<V> {
    return this.map.values();
  }
}
