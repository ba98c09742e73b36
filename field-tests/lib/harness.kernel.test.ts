// The harness for real (root: network namespaces, bpffs pins, processes): output capture, SIGKILL and
// SIGTERM of its owner, the next run's sweep, idempotent cleanup.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Harness } from './harness.ts';
import { isAlive, listNetns, sweepStale } from './cleanup.ts';

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn('field-tests/lib/harness.kernel.test.ts: namespace tests skipped, they need root');
const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');

interface ChildInfo {
  ns: string;
  sleeper: number;
  /** A pin directory of the run on bpffs. */
  pins: string;
  dir: string;
}

/** Starts testing/crash-child.ts and waits for what it built. */
function startChild(...args: string[]): Promise<{ pid: number; info: ChildInfo; exited: Promise<NodeJS.Signals | number | null>; output: () => string }> {
  const child = spawn(process.execPath, [join(repo, 'bin/run.mjs'), join(here, 'testing/crash-child.ts'), ...args], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<NodeJS.Signals | number | null>((res) => child.on('exit', (code, sig) => res(sig ?? code)));
  return new Promise((res, rej) => {
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) res({ pid: child.pid as number, info: JSON.parse(line) as ChildInfo, exited, output: () => out });
    });
    child.on('exit', (code) => rej(new Error(`crash child exited early (${code}): ${err}`)));
  });
}

describe.skipIf(!isRoot)('harness lifecycle', () => {
  const h = Harness.create();
  afterAll(async () => (await h).cleanup());

  it("captures a process's output, waits for it, and kills it with SIGKILL", async () => {
    const harness = await h;
    const ns = await harness.addNetns('proc');
    const p = harness.spawn(ns, ['sh', '-c', 'echo hello from $(ip -o link | wc -l) links; echo oops >&2; sleep 600'], { name: 'talker' });
    expect((await p.waitForOutput(/hello from (\d+) links/))[1]).toBe('1');
    await p.waitForOutput(/oops/);
    expect(await p.kill('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    expect(p.running).toBe(false);
    await expect(p.waitForOutput(/never/, 100)).rejects.toMatchObject({ code: 'HARNESS_COMMAND_FAILED' });
    const q = harness.spawn(ns, ['sleep', '600'], { name: 'quiet' });
    await expect(q.waitForOutput(/never/, 100)).rejects.toMatchObject({ code: 'HARNESS_TIMEOUT' });
    expect(existsSync(p.logFile)).toBe(true);
    expect(await harness.exec(ns, ['sh', '-c', 'exit 3'])).toMatchObject({ code: 3 });
    await expect(harness.mustExec(ns, ['false'])).rejects.toMatchObject({ code: 'HARNESS_COMMAND_FAILED' });
  });

  it('after a SIGKILL of the test process, the next sweep removes its namespaces and processes', async () => {
    const child = await startChild();
    expect(await listNetns()).toContain(child.info.ns);
    process.kill(child.pid, 'SIGKILL');
    expect(await child.exited).toBe('SIGKILL');
    expect(isAlive(child.info.sleeper)).toBe(true);
    expect(existsSync(child.info.dir)).toBe(true);
    expect(existsSync(child.info.pins)).toBe(true);
    await sweepStale();
    expect(await listNetns()).not.toContain(child.info.ns);
    expect(existsSync(child.info.dir)).toBe(false);
    expect(existsSync(child.info.pins)).toBe(false);
    await new Promise((r) => setTimeout(r, 100));
    expect(isAlive(child.info.sleeper)).toBe(false);
  });

  it('on SIGTERM the exit handler cleans up before the process dies of the signal', async () => {
    const child = await startChild();
    process.kill(child.pid, 'SIGTERM');
    expect(await child.exited).toBe('SIGTERM');
    expect(await listNetns()).not.toContain(child.info.ns);
    expect(isAlive(child.info.sleeper)).toBe(false);
    expect(existsSync(child.info.dir)).toBe(false);
    expect(existsSync(child.info.pins)).toBe(false);
  });

  it('a program with its own SIGTERM handler (cleanupOnSignals: false) shuts down its way', async () => {
    const child = await startChild('--graceful');
    process.kill(child.pid, 'SIGTERM');
    expect(await child.exited).toBe(0);
    expect(child.output()).toContain('GRACEFUL');
    expect(await listNetns()).not.toContain(child.info.ns);
    expect(isAlive(child.info.sleeper)).toBe(false);
  });

  it('cleanup is idempotent and the harness refuses work afterwards', async () => {
    const other = await Harness.create();
    const ns = await other.addNetns('x');
    expect((await other.cleanup()).netns).toEqual([ns]);
    expect(await other.cleanup()).toEqual({ netns: [], pids: [], sockets: [], pins: [] });
    await expect(other.addNetns('y')).rejects.toMatchObject({ code: 'HARNESS_CLOSED' });
  });
});
