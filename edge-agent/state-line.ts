// The appliance's state in one line, for the console banner, the serial console, `weft-agent status`
// and the status page: `waiting for network`, `enrolling (attempt 3, hub unreachable: ...)`,
// `enrolled as site store-042`, `enforcing generation 7`.
import { closeSync, constants, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { errorCode } from '../base/index.ts';

export type AgentState =
  | { kind: 'starting' }
  | { kind: 'not-provisioned'; provisionFile: string }
  | { kind: 'waiting-network' }
  | { kind: 'enrolling'; attempt: number; lastError?: string }
  | { kind: 'enroll-failed'; error: string; fix?: string }
  | { kind: 'enrolled'; siteId: string }
  | { kind: 'enforcing'; generation: number; siteId?: string; offline?: boolean }
  /** The kernel datapath cannot load: nothing is filtered; the agent retries it. */
  | { kind: 'not-enforcing'; code: string; error: string; fix?: string }
  /** The store cannot be opened at all: nothing from it is enforced, nothing is reported. */
  | { kind: 'store-unavailable'; path: string; error: string; pinnedGeneration?: number };

export function formatState(s: AgentState): string {
  switch (s.kind) {
    case 'starting':
      return 'starting';
    case 'not-provisioned':
      return `not enrolled: no provisioning file at ${s.provisionFile}`;
    case 'waiting-network':
      return 'waiting for network';
    case 'enrolling':
      return `enrolling (attempt ${s.attempt}${s.lastError ? `, ${s.lastError}` : ''})`;
    case 'enroll-failed':
      return `enrollment failed: ${s.error}${s.fix ? ` (fix: ${s.fix})` : ''}`;
    case 'enrolled':
      return `enrolled as site ${s.siteId}`;
    case 'enforcing':
      return `enforcing generation ${s.generation}${s.generation === 0 ? ' (no policy yet: allow all)' : ''}${s.offline ? ' (hub unreachable)' : ''}`;
    case 'not-enforcing':
      return `not enforcing: ${s.error} (${s.code})${s.fix ? ` (fix: ${s.fix})` : ''}; retrying`;
    case 'store-unavailable':
      return s.pinnedGeneration
        ? `enforcing generation ${s.pinnedGeneration} from the pinned kernel state only, not from the store: cannot open ${s.path}: ${s.error}`
        : `not enforcing: cannot open the store ${s.path}: ${s.error}`;
  }
}

/** What may wait for a busy console; beyond it the oldest lines go first. */
const CONSOLE_BACKLOG = 16 << 10;
const CONSOLE_RETRY_MS = 100;

/**
 * Appends lines to a console device. Never blocks the event loop or takes the device as a controlling
 * terminal (O_NONBLOCK, O_NOCTTY), never creates a file. A busy console (EAGAIN, or a short write: a
 * serial line fed faster than its baud rate, e.g. with the journal forwarded to it) keeps the rest and
 * retries, in order; a missing console loses the line, nothing else.
 */
class ConsoleWriter {
  private pending: Buffer = Buffer.alloc(0);
  private retry: NodeJS.Timeout | null = null;

  constructor(private readonly device: string) {}

  write(line: string): void {
    // CR LF: a serial line in raw mode does not add the carriage return itself. The leading CR LF
    // starts a fresh row, so the line never lands after agetty's `login: ` prompt.
    let next = Buffer.concat([this.pending, Buffer.from(`\r\nweft: ${line}\r\n`)]);
    if (next.length > CONSOLE_BACKLOG) {
      const from = next.indexOf('\r\nweft: ', next.length - CONSOLE_BACKLOG);
      next = from < 0 ? Buffer.alloc(0) : next.subarray(from);
    }
    this.pending = next;
    if (!this.retry) this.flush();
  }

  private flush(): void {
    this.retry = null;
    let fd: number | undefined;
    try {
      fd = openSync(this.device, constants.O_WRONLY | constants.O_APPEND | constants.O_NOCTTY | constants.O_NONBLOCK);
      while (this.pending.length) this.pending = this.pending.subarray(writeSync(fd, this.pending));
    } catch (e) {
      if (errorCode(e) !== 'EAGAIN') this.pending = Buffer.alloc(0); // no console: the status page and the state file still carry the line
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    if (this.pending.length) {
      this.retry = setTimeout(() => this.flush(), CONSOLE_RETRY_MS);
      this.retry.unref();
    }
  }
}

/** Writes the line atomically (temp + rename) so a reader never sees half a line; echoes changes to the console. */
export class StateLine {
  private current: AgentState = { kind: 'starting' };
  private written: string | null = null;
  private readonly console?: ConsoleWriter;
  constructor(
    private readonly file: string,
    private readonly onChange?: (line: string, s: AgentState) => void,
    consoleDevice?: string,
  ) {
    if (consoleDevice) this.console = new ConsoleWriter(consoleDevice);
  }

  get state(): AgentState {
    return this.current;
  }

  get line(): string {
    return formatState(this.current);
  }

  set(s: AgentState): void {
    this.current = s;
    const line = formatState(s);
    if (line === this.written) return;
    this.written = line;
    this.console?.write(line);
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      const tmp = `${this.file}.${process.pid}.tmp`;
      writeFileSync(tmp, line + '\n', { mode: 0o644 });
      renameSync(tmp, this.file);
    } catch {
      // A full or read-only disk must not stop enforcement; the line is still served over HTTP.
    }
    this.onChange?.(line, s);
  }
}

export function readStateLine(file: string): string | null {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}
