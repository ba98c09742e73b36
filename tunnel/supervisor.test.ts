import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { backoffDelay, Supervisor } from './supervisor.ts';

const logger = pino({ level: 'silent' });
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('supervisor', () => {
  it('backs off exponentially up to the cap', () => {
    const b = { initialMs: 100, maxMs: 1000, factor: 2, resetAfterMs: 10_000 };
    expect([0, 1, 2, 3, 4, 5].map((a) => backoffDelay(a, b))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('restarts a process killed with SIGKILL, runs the start hook again, and stops cleanly', async () => {
    const hookPids: number[] = [];
    const sup = new Supervisor({
      name: 'sleeper',
      argv: ['sleep', '600'],
      logger,
      backoff: { initialMs: 20 },
      onStart: async (pid) => void hookPids.push(pid),
    });
    await sup.start();
    const first = sup.pid as number;
    try {
      const restarted = new Promise<number>((r) => sup.once('ready', r));
      process.kill(first, 'SIGKILL');
      const second = await restarted;
      expect(second).not.toBe(first);
      expect(sup.restarts).toBe(1);
      expect(hookPids).toEqual([first, second]);
    } finally {
      await sup.stop();
    }
    expect(alive(hookPids[1])).toBe(false);
    // stopped for good: no restart after stop
    await new Promise((r) => setTimeout(r, 100));
    expect(sup.pid).toBeUndefined();
  });

  it('kills a child that ignores SIGTERM after the grace period', async () => {
    const sup = new Supervisor({ name: 'stubborn', argv: ['sh', '-c', 'trap "" TERM; while :; do sleep 0.05; done'], logger, stopGraceMs: 200 });
    await sup.start();
    const pid = sup.pid as number;
    await sup.stop();
    expect(alive(pid)).toBe(false);
  });

  it('reports a child that cannot start, without retrying it', async () => {
    const sup = new Supervisor({ name: 'broken', argv: ['sh', '-c', 'exit 3'], logger, onStart: () => new Promise((r) => setTimeout(r, 500)) });
    await expect(sup.start()).rejects.toThrow(/exited during start \(code 3/);
    await new Promise((r) => setTimeout(r, 300));
    expect(sup.restarts).toBe(0);
  });

  it("fails start() with the start hook's own error, and kills the child", async () => {
    let pid = 0;
    const sup = new Supervisor({
      name: 'hooked',
      argv: ['sleep', '600'],
      logger,
      onStart: async (p) => {
        pid = p;
        throw new Error('address refused');
      },
    });
    await expect(sup.start()).rejects.toThrow('address refused');
    expect(() => process.kill(pid, 0)).toThrow();
    expect(sup.restarts).toBe(0);
  });
});
