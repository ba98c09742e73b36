import { describe, expect, it } from 'vitest';
import { exec, ExecError, netnsArgv, run, runSync } from './exec.ts';
import { WeftError } from './errors.ts';

describe('exec', () => {
  it('netnsArgv prefixes ip netns exec only when a namespace is named', () => {
    expect(netnsArgv(['ip', 'link'], 'ns1')).toEqual(['ip', 'netns', 'exec', 'ns1', 'ip', 'link']);
    expect(netnsArgv(['ip', 'link'])).toEqual(['ip', 'link']);
  });

  it('run captures output and feeds stdin', async () => {
    await expect(run(['sh', '-c', 'cat; echo err >&2'], { input: 'hello' })).resolves.toEqual({ stdout: 'hello', stderr: 'err\n' });
    expect(runSync(['sh', '-c', 'printf %s "$X"'], { env: { X: 'from env' } })).toBe('from env');
  });

  it('a failing program is an ExecError with argv, exit code and stderr', async () => {
    const err = await run(['sh', '-c', 'echo nope >&2; exit 3']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecError);
    expect(err).toBeInstanceOf(WeftError);
    expect(err).toMatchObject({ code: 'EXEC_FAILED', exitCode: 3, stderr: 'nope\n', argv: ['sh', '-c', 'echo nope >&2; exit 3'] });
    expect((err as ExecError).message).toBe('sh -c echo nope >&2; exit 3 failed: nope');
    expect(() => runSync(['sh', '-c', 'exit 4'])).toThrow(expect.objectContaining({ code: 'EXEC_FAILED', exitCode: 4 }));
  });

  it('a missing program is EXEC_NOT_FOUND with a hint; a slow one EXEC_TIMEOUT', async () => {
    await expect(run(['weft-no-such-program-xyz'])).rejects.toMatchObject({ code: 'EXEC_NOT_FOUND', exitCode: null, hint: expect.stringContaining('install') });
    expect(() => runSync(['weft-no-such-program-xyz'])).toThrow(expect.objectContaining({ code: 'EXEC_NOT_FOUND' }));
    await expect(run(['sleep', '5'], { timeoutMs: 100 })).rejects.toMatchObject({ code: 'EXEC_TIMEOUT' });
    expect(() => runSync(['sleep', '5'], { timeoutMs: 100 })).toThrow(expect.objectContaining({ code: 'EXEC_TIMEOUT' }));
  });

  it('exec reports the exit code and never throws; with no stderr the failure itself fills it', async () => {
    await expect(exec(['sh', '-c', 'echo out; exit 2'])).resolves.toEqual({ code: 2, stdout: 'out\n', stderr: expect.stringContaining('Command failed') });
    await expect(exec(['weft-no-such-program-xyz'])).resolves.toMatchObject({ code: 127, stderr: expect.stringContaining('ENOENT') });
  });
});
