// Commands run through base/exec.ts; a failure becomes TUNNEL_COMMAND_FAILED so the hub and the agent
// map every tunnel failure from one code list, with the argv and stderr kept in the detail.
import { ExecError, run as baseRun, type ExecOptions } from '../base/index.ts';
import { TunnelError } from './errors.ts';

export type RunOptions = Pick<ExecOptions, 'netns' | 'input' | 'timeoutMs'>;

export interface RunResult {
  stdout: string;
  stderr: string;
}

export async function run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  try {
    return await baseRun(argv, { timeoutMs: 15_000, ...opts });
  } catch (e) {
    if (!(e instanceof ExecError)) throw e;
    throw new TunnelError('TUNNEL_COMMAND_FAILED', e.message, e.hint, { command: e.argv, stderr: e.stderr }, e);
  }
}
