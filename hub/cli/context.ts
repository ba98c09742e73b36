// What every ops command shares: output (human or --json), the logged-in hub, and how API errors
// become exit codes (2: the request was bad; 1: the hub said no or could not be reached).
import { request, ApiUnreachable, type ApiTarget } from './api-client.ts';
import { credentialsPath, loadCredentials } from './credentials.ts';

export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: NodeJS.ProcessEnv;
}

export const processIo: Io = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  env: process.env,
};

/** A failure with its exit code; its message is printed as is (never a stack trace). */
export class CliFailure extends Error {
  override readonly name = 'CliFailure';
  constructor(
    readonly exitCode: 1 | 2,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

interface ErrorBody {
  code?: string;
  message?: string;
  details?: unknown;
}

export class Ctx {
  constructor(
    readonly io: Io,
    readonly json: boolean,
  ) {}

  out(human: string, data: unknown): void {
    this.io.stdout(this.json ? `${JSON.stringify(data, null, 2)}\n` : `${human}\n`);
  }

  target(): ApiTarget {
    const c = loadCredentials(credentialsPath(this.io.env));
    if (!c) throw new CliFailure(2, 'not logged in: run `weft login --hub <url> --token-file <file>` first');
    return { hub: c.hub, token: this.io.env.WEFT_TOKEN || c.token, caPem: c.caPem };
  }

  async api<T>(method: string, path: string, body?: unknown, target: ApiTarget = this.target()): Promise<T> {
    let res;
    try {
      res = await request(target, method, path, body);
    } catch (e) {
      if (e instanceof ApiUnreachable) throw new CliFailure(1, e.message);
      throw e;
    }
    if (res.status >= 200 && res.status < 300) return res.body as T;
    const err = (res.body ?? {}) as ErrorBody;
    const bad = res.status === 400 || res.status === 413;
    throw new CliFailure(bad ? 2 : 1, `${err.message ?? `HTTP ${res.status}`} (${err.code ?? res.status})`, err.details);
  }
}

/** `24h`, `90m`, `30s`, `2d`, or plain seconds. */
export function parseDuration(s: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(s);
  if (!m) throw new CliFailure(2, `"${s}" is not a duration: use e.g. 30s, 15m, 24h, 7d`);
  return Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
}

export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
