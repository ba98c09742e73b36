// The agent binaries an agent-only update switches between, in one folder on the data partition:
//   weft-agent-<version>   each installed binary (0755)
//   current -> ...         what the service runs (ExecStart=<dir>/current run)
//   good -> ...            the last blessed binary: where a failed update returns
//   previous -> ...        the one before it: `weft-agent update rollback` by hand
//   pending.json           an update between swap and blessing (gate baseline, deadline, attempts)
//   last-update.json       how the last update ended, for the agent to report to the hub
// A switch is one rename of a symlink over another: the service sees the old binary or the new one.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { GateBaseline } from './gate.ts';

export interface Pending {
  from: string;
  to: string;
  /** Binary file names (in the folder) of the old and the new version. */
  fromFile: string;
  toFile: string;
  baseline: GateBaseline;
  /** ms since epoch when the new binary was switched in. */
  swappedAt: number;
  deadlineMs: number;
  /** Starts of the new binary so far (the guard counts them). */
  attempts: number;
  /** The hub rollout this update belongs to (0: by hand). */
  rolloutId: number;
}

export interface UpdateResult {
  version: string;
  from: string;
  state: 'blessed' | 'rolled-back' | 'refused';
  code?: string;
  reason?: string;
  at: string;
  rolloutId: number;
  /** The hub was told (the agent sets it once its report is in the outbox). */
  reported?: boolean;
}

export class Slots {
  constructor(readonly dir: string) {}

  path(name: string): string {
    return join(this.dir, name);
  }

  /** The binary file a link points at (a file name in the folder, or an absolute path outside), or null. */
  target(link: 'current' | 'good' | 'previous'): string | null {
    try {
      return readlinkSync(this.path(link));
    } catch {
      return null;
    }
  }

  /** Points `link` at `target` with one rename: readers see the old link or the new one. */
  point(link: 'current' | 'good' | 'previous', target: string): void {
    const tmp = this.path(`.${link}.tmp`);
    rmSync(tmp, { force: true });
    symlinkSync(target.startsWith('/') ? target : basename(target), tmp);
    renameSync(tmp, this.path(link));
    this.syncDir();
  }

  /** fsync of the folder: a rename is durable only once the directory is (power cut after a swap). */
  private syncDir(): void {
    const fd = openSync(this.dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  private writeJson(name: string, v: unknown): void {
    this.writeFile(name, `${JSON.stringify(v)}\n`);
  }

  /** Writes a file whole or not at all (temp file, fsync, rename, fsync of the folder). */
  writeFile(name: string, text: string): void {
    const tmp = this.path(`.${name}.tmp`);
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeFileSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path(name));
    this.syncDir();
  }

  private readJson<T>(name: string): T | null {
    try {
      return JSON.parse(readFileSync(this.path(name), 'utf8')) as T;
    } catch {
      return null;
    }
  }

  pending(): Pending | null {
    return this.readJson<Pending>('pending.json');
  }

  setPending(p: Pending): void {
    this.writeJson('pending.json', p);
  }

  clearPending(): void {
    rmSync(this.path('pending.json'), { force: true });
    this.syncDir();
  }

  lastResult(): UpdateResult | null {
    return this.readJson<UpdateResult>('last-update.json');
  }

  setResult(r: UpdateResult): void {
    this.writeJson('last-update.json', r);
  }

  exists(name: string): boolean {
    return existsSync(this.path(name));
  }
}
