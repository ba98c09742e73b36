// The rollout lease on PostgreSQL: pg_try_advisory_lock on a dedicated connection (not the pool: the
// lock lives as long as this one session). When the session dies (the hub crashed, its connection was
// killed, PostgreSQL restarted) the server drops the lock at once and another hub's next poll takes it,
// raising the epoch in rollout_lease; the old holder learns it on its next poll (or its connection's
// error) and stops. Between the two, its writes are refused by the epoch (fencing).
import { EventEmitter } from 'node:events';
import pg from 'pg';
import { TYPES } from './sql.ts';

/** Advisory lock key of the rollout engine ('wrol' in ASCII). */
const LEASE_LOCK = 0x77726f6c;

export interface PgLeaseOptions {
  url: string;
  /** Who holds it (host and pid): written beside the epoch for ops. */
  holder: string;
  /** How often a follower tries, and a leader checks its session. Takeover takes at most this, plus a connect. */
  pollMs?: number;
  now?: () => number;
}

/** Shaped as hub/rollout/lease.ts EngineLease (the store does not import the rollout part). */
export class PgLease extends EventEmitter {
  private client: pg.Client | undefined;
  private held: number | null = null;
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(private readonly o: PgLeaseOptions) {
    super();
  }

  isLeader(): boolean {
    return this.held !== null;
  }

  epoch(): number | null {
    return this.held;
  }

  /** The lease session's backend pid (tests kill it to simulate a dead hub). */
  async sessionPid(): Promise<number | undefined> {
    return this.client ? ((await this.client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid ?? undefined) : undefined;
  }

  start(): void {
    this.timer = setInterval(() => void this.poll(), this.o.pollMs ?? 1000);
    this.timer.unref();
    void this.poll();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.drop();
  }

  /** One round: connect if needed; a leader checks its session is alive, a follower tries the lock. */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      if (!this.client) {
        const c = new pg.Client({ connectionString: this.o.url, types: TYPES, connectionTimeoutMillis: 2000 });
        c.on('error', () => void this.drop());
        await c.connect();
        this.client = c;
      }
      const c = this.client;
      if (this.held !== null) {
        await c.query('SELECT 1');
        return;
      }
      const got = (await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [LEASE_LOCK])).rows[0].ok;
      if (!got) return;
      const { rows } = await c.query<{ epoch: number }>(
        `INSERT INTO rollout_lease (name, epoch, holder, acquired_at) VALUES ('rollout', 1, $1, $2)
        ON CONFLICT (name) DO UPDATE SET epoch = rollout_lease.epoch + 1, holder = excluded.holder, acquired_at = excluded.acquired_at
        RETURNING epoch`,
        [this.o.holder, (this.o.now ?? Date.now)()],
      );
      this.held = rows[0].epoch;
      this.emit('acquired', this.held);
    } catch {
      await this.drop();
    } finally {
      this.polling = false;
    }
  }

  private async drop(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (this.held !== null) {
      this.held = null;
      this.emit('lost');
    }
    if (c) await c.end().catch(() => {});
  }
}
