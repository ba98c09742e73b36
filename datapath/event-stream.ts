// Fan-out of verdict events to every events() iterator. Each subscriber has a bounded queue: a slow
// reader loses the newest events (counted in `dropped`), never blocks the datapath or grows memory.
import type { VerdictEvent } from './datapath.ts';

interface Subscriber {
  queue: VerdictEvent[];
  wake?: () => void;
}

export class EventStream {
  private readonly subs = new Set<Subscriber>();
  private closed = false;
  dropped = 0;

  constructor(private readonly capacity = 65536) {}

  push(e: VerdictEvent): void {
    for (const s of this.subs) {
      if (s.queue.length >= this.capacity) {
        this.dropped++;
        continue;
      }
      s.queue.push(e);
      s.wake?.();
    }
  }

  get subscribers(): number {
    return this.subs.size;
  }

  close(): void {
    this.closed = true;
    for (const s of this.subs) s.wake?.();
  }

  /** Events pushed from now on, until close() or until the consumer stops iterating. */
  subscribe(): AsyncIterable<VerdictEvent> {
    const sub: Subscriber = { queue: [] };
    if (!this.closed) this.subs.add(sub);
    const self = this;
    return {
      [Symbol.asyncIterator](): AsyncIterator<VerdictEvent> {
        return {
          async next(): Promise<IteratorResult<VerdictEvent>> {
            for (;;) {
              const e = sub.queue.shift();
              if (e) return { value: e, done: false };
              if (self.closed || !self.subs.has(sub)) return { value: undefined, done: true };
              await new Promise<void>((resolve) => (sub.wake = resolve));
              sub.wake = undefined;
            }
          },
          async return(): Promise<IteratorResult<VerdictEvent>> {
            self.subs.delete(sub);
            return { value: undefined, done: true };
          },
        };
      },
    };
  }
}
