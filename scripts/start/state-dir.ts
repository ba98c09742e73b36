// The demo's state directory (.weft in the checkout): recreated at every start, refused when it
// was not made by npm start, and the place a crashed run's host-side leftovers are recorded.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive } from '../../field-tests/lib/cleanup.ts';
import { StartError } from './errors.ts';

const MARKER = '.weft-demo';
const RUN_FILE = 'run.json';

/** What a run leaves on the host outside its namespaces, for the next start to remove after a crash. */
export interface RunRecord {
  pid: number;
  /** The hub's WireGuard interface (host namespace); deleting it stops its wireguard-go. */
  hubIfname?: string;
}

export function prepareStateDir(dir: string): void {
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    if (!existsSync(join(dir, MARKER))) {
      throw new StartError(
        'START_STATE_DIR',
        `${dir} exists and was not created by npm start`,
        'pick an empty or new --data-dir; npm start deletes its contents at every start',
      );
    }
    const run = readRun(dir);
    if (run && run.pid !== process.pid && isAlive(run.pid)) {
      throw new StartError(
        'START_STATE_DIR',
        `another npm start (pid ${run.pid}) is using ${dir}`,
        `stop it with Ctrl-C (or kill ${run.pid}), or pass another --data-dir`,
      );
    }
    // A crashed run (SIGKILL) could not remove its host-side WireGuard interface.
    if (run?.hubIfname) {
      try {
        execFileSync('ip', ['link', 'del', run.hubIfname], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, MARKER), 'created by npm start; deleted and recreated at every start\n');
}

export function writeRun(dir: string, run: RunRecord): void {
  writeFileSync(join(dir, RUN_FILE), `${JSON.stringify(run)}\n`);
}

export function clearRun(dir: string): void {
  rmSync(join(dir, RUN_FILE), { force: true });
}

function readRun(dir: string): RunRecord | null {
  try {
    return JSON.parse(readFileSync(join(dir, RUN_FILE), 'utf8')) as RunRecord;
  } catch {
    return null;
  }
}
