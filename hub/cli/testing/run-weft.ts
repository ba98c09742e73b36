// The ops CLI run in-process for tests, with its own HOME (saved credentials land there): exit code and output.
import { join } from 'node:path';
import { runOpsCommand } from '../ops-commands.ts';

export type WeftRun = (...argv: string[]) => Promise<{ code: number; out: string; err: string }>;

export function weftIn(home: string): WeftRun {
  return async (...argv) => {
    let out = '';
    let err = '';
    const code = await runOpsCommand(argv, {
      stdout: (s) => void (out += s),
      stderr: (s) => void (err += s),
      env: { HOME: home, XDG_CONFIG_HOME: join(home, 'config') },
    });
    return { code, out, err };
  };
}
