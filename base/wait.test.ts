import { describe, expect, it } from 'vitest';
import { WeftError } from './errors.ts';
import { waitFor } from './wait.ts';

describe('waitFor', () => {
  it('returns the first value that is not undefined, null or false (0 and "" are answers)', async () => {
    let n = 0;
    await expect(waitFor(() => (++n >= 3 ? { n } : undefined), { intervalMs: 1 })).resolves.toEqual({ n: 3 });
    await expect(waitFor(() => 0)).resolves.toBe(0);
    await expect(waitFor(async () => '')).resolves.toBe('');
  });

  it('times out with WAIT_TIMEOUT naming what it waited for and what it last saw', async () => {
    const t0 = Date.now();
    const err = await waitFor(() => false, { timeoutMs: 60, intervalMs: 5, what: 'the door' }).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(55);
    expect(err).toBeInstanceOf(WeftError);
    expect(err).toMatchObject({ code: 'WAIT_TIMEOUT', message: 'timed out after 60 ms waiting for the door (last: false)' });
  });

  it('a throwing probe fails at once, unless errors are retried', async () => {
    await expect(waitFor(() => Promise.reject(new Error('down')), { timeoutMs: 1000 })).rejects.toThrow('down');
    let n = 0;
    const probe = () => {
      if (++n < 3) throw new Error('not yet');
      return 'up';
    };
    await expect(waitFor(probe, { retryErrors: true, intervalMs: 1 })).resolves.toBe('up');
    await expect(waitFor(() => Promise.reject(new Error('still down')), { retryErrors: true, timeoutMs: 30, intervalMs: 5 })).rejects.toThrow(
      '(last: "still down")',
    );
  });
});
