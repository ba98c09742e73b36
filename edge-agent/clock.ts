// The agent's clock, one door injected through RunDeps so the start sequence reads no clock of its own:
// the wall clock for timestamps (enforcing since, events) and the process's age for time to enforcing.
export interface Clock {
  /** Wall clock, ms since the epoch. */
  now(): number;
  /** Seconds since the process started: time to enforcing counts from exec, not from runAgent. */
  uptimeS(): number;
}

export const systemClock: Clock = { now: () => Date.now(), uptimeS: () => process.uptime() };
