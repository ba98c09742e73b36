// Commands inside a namespace: async with the exit code (tests often expect failures), and a
// synchronous variant for exit handlers, where nothing async can run.
import { execFile, execFileSync } from 'node:child_process';
import { HarnessError } from './errors.ts';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function nsArgv(ns: string | undefined, argv: string[]): string[] {
  return ns ? ['ip', 'netns', 'exec', ns, ...argv] : argv;
}

/** Runs to completion and reports the exit code; never throws for a non-zero exit. */
export interface ExecOptions {
  input?: string;
  timeoutMs?: number;
  /** Default: this process's environment. */
  env?: NodeJS.ProcessEnv;
}

export function exec(ns: string | undefined, argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const full = nsArgv(ns, argv);
  return new Promise((resolve) => {
    const child = execFile(full[0], full.slice(1), { timeout: opts.timeoutMs ?? 30_000, maxBuffer: 32 * 1024 * 1024, env: opts.env }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 127) : 0;
      resolve({ code, stdout, stderr: err && !stderr ? err.message : stderr });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Runs and throws a HarnessError on failure: for building the fabric. */
export async function mustExec(ns: string | undefined, argv: string[], opts: ExecOptions = {}): Promise<string> {
  const r = await exec(ns, argv, opts);
  if (r.code !== 0) throw new HarnessError('HARNESS_COMMAND_FAILED', `${nsArgv(ns, argv).join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Best-effort synchronous command for exit handlers; returns stdout or '' on failure. */
export function execQuietSync(argv: string[]): string {
  try {
    return execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
  } catch {
    return '';
  }
}
