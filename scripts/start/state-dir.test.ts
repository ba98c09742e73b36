// The demo's state directory: created, emptied at the next start, refused when it is not ours or a live run holds it.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StartError } from './errors.ts';
import { prepareStateDir, writeRun } from './state-dir.ts';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'weft-start-state-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const codeOf = (fn: () => void): string | undefined => {
  try {
    fn();
  } catch (e) {
    return e instanceof StartError ? e.code : 'OTHER';
  }
  return undefined;
};

describe('the demo state directory', () => {
  it('is created when missing and recreated (emptied) at the next start', () => {
    const dir = join(tmp(), 'state');
    prepareStateDir(dir);
    writeFileSync(join(dir, 'hub.db'), 'old');
    prepareStateDir(dir);
    expect(readdirSync(dir)).toEqual(['.weft-demo']);
  });

  it('refuses a non-empty directory npm start did not create, and leaves it alone', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'precious'), 'keep me');
    expect(codeOf(() => prepareStateDir(dir))).toBe('START_STATE_DIR');
    expect(existsSync(join(dir, 'precious'))).toBe(true);
  });

  it('refuses a directory a running npm start holds, and takes over one whose run is dead', async () => {
    const dir = join(tmp(), 'state');
    prepareStateDir(dir);
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      writeRun(dir, { pid: child.pid! });
      expect(codeOf(() => prepareStateDir(dir))).toBe('START_STATE_DIR');
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    mkdirSync(join(dir, 'sites'));
    prepareStateDir(dir);
    expect(readdirSync(dir)).toEqual(['.weft-demo']);
  });
});
