// Runs a system command, optionally inside a network namespace, and turns failure into a
// TunnelError that carries the argv and stderr.
import { execFile } from 'node:child_process';
import { TunnelError } from './errors.ts';

export interface RunOptions {
  /** Run inside this network namespace (`ip netns exec`). */
  netns?: string;
  /** Written to the command's stdin. */
  input?: string;
  timeoutMs?: number;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** The argv that runs `argv` inside `netns` (or `argv` itself). */
export function inNetns(argv: string[], netns?: string): string[] {
  return netns ? ['ip', 'netns', 'exec', netns, ...argv] : argv;
}

export function run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  const full = inNetns(argv, opts.netns);
  return new Promise((resolve, reject) => {
    const child = execFile(full[0], full.slice(1), { timeout: opts.timeoutMs ?? 15_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        reject(new TunnelError('TUNNEL_COMMAND_FAILED', `${full.join(' ')} failed: ${stderr.trim() || err.message}`, undefined, { command: full, stderr }));
      } else {
        resolve({ stdout, stderr });
      }
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}
