// `weft ... | head`: a CLI whose reader has gone exits 0 without an EPIPE stack trace.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const repo = join(import.meta.dirname, '..', '..');

it('weft --help into a pipe whose reader has gone exits 0 quietly', async () => {
  const c = spawn(process.execPath, [join(repo, 'bin/weft.mjs'), '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
  // Our end closes before the child writes: its write to stdout meets EPIPE.
  c.stdout.destroy();
  let stderr = '';
  c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((r) => c.once('close', r));
  expect(stderr).not.toMatch(/EPIPE|Error/);
  expect(code).toBe(0);
}, 60_000);
