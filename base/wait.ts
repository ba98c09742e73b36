// Waiting for a condition, never for a fixed time: one poller for tests, harnesses and scripts.
import { errorMessage, WeftError } from './errors.ts';

export interface WaitOptions {
  /** Default 10 000 ms. */
  timeoutMs?: number;
  /** Pause between probes; default 20 ms. */
  intervalMs?: number;
  /** What is awaited, for the timeout message. */
  what?: string;
  /** Treat a throwing probe as "not yet" (a server still starting) instead of failing at once. Default false. */
  retryErrors?: boolean;
}

export type WaitErrorCode = 'WAIT_TIMEOUT'; // the awaited condition did not hold in time

/** A probe is done when it returns anything but undefined, null or false. */
type Done<T> = Exclude<T, undefined | null | false>;

/**
 * Polls `probe` until it is done and returns its value. On timeout throws WeftError WAIT_TIMEOUT that
 * names `what` and the last value or error seen, so a failed wait says what it saw.
 */
export async function waitFor<T>(probe: () => T | Promise<T>, opts: WaitOptions = {}): Promise<Done<T>> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== null && v !== false) return v as Done<T>;
      last = v;
    } catch (e) {
      if (!opts.retryErrors) throw e;
      last = errorMessage(e);
    }
    if (Date.now() >= end) {
      const seen = JSON.stringify(last)?.slice(0, 500) ?? String(last);
      throw new WeftError<WaitErrorCode>('WAIT_TIMEOUT', `timed out after ${timeoutMs} ms waiting for ${opts.what ?? 'a condition'} (last: ${seen})`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 20));
  }
}
