// Which rollout engine may act: one at a time across hub replicas. The engine asks isLeader() before it
// steps, and passes epoch() to the store in every write so a leader that lost the lease (paused,
// partitioned) cannot write after a newer one took over (fencing; RolloutsRepo.leaseEpoch). The embedded
// hub is always the leader; PostgreSQL hubs hold an advisory lock (hub/store/postgres/lease.ts).
import type { EventEmitter } from 'node:events';

/** Emits 'acquired' (epoch) and 'lost' (). */
export interface EngineLease extends EventEmitter {
  isLeader(): boolean;
  /** The epoch this holder acquired; null when it does not hold the lease. */
  epoch(): number | null;
  start(): void;
  stop(): Promise<void>;
}
