// The embedded hub's lease: one process, always the leader, at the store's epoch 0.
import { EventEmitter } from 'node:events';
import type { EngineLease } from './lease.ts';

export class AlwaysLeader extends EventEmitter implements EngineLease {
  isLeader(): boolean {
    return true;
  }

  epoch(): number {
    return 0;
  }

  start(): void {}

  async stop(): Promise<void> {}
}
