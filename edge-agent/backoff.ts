// Jittered exponential backoff, shared by the MQTT link and enrollment: thousands of sites that lost
// the hub together must not come back in lockstep.

export interface BackoffOptions {
  minMs: number;
  maxMs: number;
  /** Uniform [0, 1). */
  random?: () => number;
}

/** Delay before retry number `attempt` (1-based): half fixed, half random, of min(max, min * 2^(attempt-1)). */
export function backoffDelay(attempt: number, o: BackoffOptions): number {
  const base = Math.min(o.maxMs, o.minMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  const r = (o.random ?? Math.random)();
  return Math.round(base / 2 + (r * base) / 2);
}

/** Resolves after ms, or early (false) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
