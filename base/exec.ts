// The one door for running a program, in this network namespace or another (`ip netns exec`):
// argv in, captured output out, a timeout, and a coded ExecError that carries the argv, the exit
// code and stderr when it fails. Parts map ExecError to their own codes where they need to.
import { execFile, execFileSync } from 'node:child_process';
import { WeftError } from './errors.ts';

export type ExecErrorCode =
  | 'EXEC_NOT_FOUND' // the program is not installed (not on PATH)
  | 'EXEC_FAILED' // the program exited non-zero; its stderr is in the message
  | 'EXEC_TIMEOUT'; // the program did not finish in time and was killed

export class ExecError extends WeftError<ExecErrorCode> {
  override readonly name = 'ExecError';
  constructor(
    code: ExecErrorCode,
    message: string,
    readonly argv: string[],
    /** null when the program did not run to an exit (not found, killed on timeout). */
    readonly exitCode: number | null,
    readonly stdout: string,
    readonly stderr: string,
    hint?: string,
  ) {
    super(code, message, hint);
  }
}

export interface ExecOptions {
  /** Run inside this network namespace (`ip netns exec <netns> ...`). */
  netns?: string;
  /** Written to the program's stdin. */
  input?: string;
  /** Default 30 000 ms; the program is killed after it. */
  timeoutMs?: number;
  /** Default: this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** Default: this process's working directory. */
  cwd?: string;
}

export interface ExecResult {
  /** The exit code; 127 when the program could not be run, as a shell reports it. */
  code: number;
  stdout: string;
  stderr: string;
}

const MAX_BUFFER = 64 * 1024 * 1024;

/** The argv that runs `argv` inside `netns`, or `argv` itself. */
export function netnsArgv(argv: string[], netns?: string): string[] {
  return netns ? ['ip', 'netns', 'exec', netns, ...argv] : argv;
}

type ChildFailure = Error & { code?: string | number | null; killed?: boolean; signal?: string | null; status?: number | null };

function toExecError(full: string[], err: ChildFailure, stdout: string, stderr: string, timeoutMs: number): ExecError {
  const text = full.join(' ');
  if (err.code === 'ENOENT')
    return new ExecError('EXEC_NOT_FOUND', `${full[0]} is not installed`, full, null, stdout, stderr, `install the package that provides ${full[0]}`);
  if (err.killed || (err.code === 'ETIMEDOUT' && err.signal)) {
    return new ExecError('EXEC_TIMEOUT', `${text} did not finish within ${timeoutMs} ms`, full, null, stdout, stderr);
  }
  const exit = typeof err.code === 'number' ? err.code : typeof err.status === 'number' ? err.status : null;
  return new ExecError('EXEC_FAILED', `${text} failed: ${stderr.trim() || err.message}`, full, exit, stdout, stderr);
}

function spawnArgs(opts: ExecOptions) {
  return { timeout: opts.timeoutMs ?? 30_000, maxBuffer: MAX_BUFFER, env: opts.env, cwd: opts.cwd, encoding: 'utf8' as const };
}

function execRaw(argv: string[], opts: ExecOptions): Promise<{ err: ChildFailure | null; stdout: string; stderr: string; full: string[] }> {
  const full = netnsArgv(argv, opts.netns);
  return new Promise((resolve) => {
    const child = execFile(full[0], full.slice(1), spawnArgs(opts), (err, stdout, stderr) => resolve({ err, stdout, stderr, full }));
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Runs to completion and reports the exit code; never throws for a failing program (tests often expect one). */
export async function exec(argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const { err, stdout, stderr } = await execRaw(argv, opts);
  if (!err) return { code: 0, stdout, stderr };
  return { code: typeof err.code === 'number' ? err.code : 127, stdout, stderr: stderr || err.message };
}

/** Runs and returns the output; throws ExecError unless the program exits 0. */
export async function run(argv: string[], opts: ExecOptions = {}): Promise<{ stdout: string; stderr: string }> {
  const { err, stdout, stderr, full } = await execRaw(argv, opts);
  if (err) throw toExecError(full, err, stdout, stderr, opts.timeoutMs ?? 30_000);
  return { stdout, stderr };
}

/** The synchronous form, for tools that run step by step and for exit handlers; returns stdout. */
export function runSync(argv: string[], opts: ExecOptions = {}): string {
  const full = netnsArgv(argv, opts.netns);
  try {
    return execFileSync(full[0], full.slice(1), {
      ...spawnArgs(opts),
      input: opts.input,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
  } catch (e) {
    const err = e as ChildFailure & { stdout?: string; stderr?: string };
    throw toExecError(full, err, err.stdout ?? '', err.stderr ?? '', opts.timeoutMs ?? 30_000);
  }
}
