// Commands inside a namespace for the harness, through base/exec.ts: `exec` reports the exit code
// (tests often expect failures), `mustExec` throws a HarnessError for building the fabric, and a
// synchronous best-effort variant serves exit handlers, where nothing async can run.
import { exec as baseExec, netnsArgv, runSync, type ExecOptions, type ExecResult } from '../../base/index.ts';
import { HarnessError } from './errors.ts';

export type { ExecResult };

/** Runs to completion and reports the exit code; never throws for a non-zero exit. */
export function exec(ns: string | undefined, argv: string[], opts: Omit<ExecOptions, 'netns'> = {}): Promise<ExecResult> {
  return baseExec(argv, { ...opts, netns: ns });
}

/** Runs and throws a HarnessError on failure: for building the fabric. */
export async function mustExec(ns: string | undefined, argv: string[], opts: Omit<ExecOptions, 'netns'> = {}): Promise<string> {
  const r = await exec(ns, argv, opts);
  if (r.code !== 0) throw new HarnessError('HARNESS_COMMAND_FAILED', `${netnsArgv(argv, ns).join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Best-effort synchronous command for exit handlers; returns stdout or '' on failure. */
export function execQuietSync(argv: string[]): string {
  try {
    return runSync(argv, { timeoutMs: 10_000 });
  } catch {
    return '';
  }
}
