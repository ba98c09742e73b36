// Power-loss stand-in: kill -9 a writer mid-stream, many times; whatever it reported as committed is there,
// the database is intact, and the last-known-good pointer is never behind what was applied.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from './index.ts';
import { tempDirs } from './testing/tmp.ts';

const tmp = tempDirs('store-crash');
afterAll(() => tmp.cleanup());
const root = join(import.meta.dirname, '..');

function runAndKill(path: string, afterLines: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'bin/run.mjs'), join(import.meta.dirname, 'testing/crash-writer.ts'), path], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    let stderr = '';
    createInterface({ input: child.stdout }).on('line', (l) => {
      lines.push(l);
      if (lines.length >= afterLines && child.exitCode === null) child.kill('SIGKILL');
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('close', (code, signal) => (signal === 'SIGKILL' ? resolve(lines) : reject(new Error(`writer exited ${code}: ${stderr}`))));
  });
}

describe('crash safety (kill -9)', () => {
  it('after every kill, all committed steps survive and the LKG is the newest one set', async () => {
    const path = join(tmp.make(), 'agent.db');
    let maxSeq = 0;
    for (let round = 0; round < 4; round++) {
      const lines = await runAndKill(path, 20 + round * 7);
      const store = openStore(path);
      try {
        expect(store.checkIntegrity().ok).toBe(true);
        const lastLkg = Math.max(...lines.filter((l) => l.startsWith('lkg ')).map((l) => Number(l.slice(4))));
        const lkg = store.bundles.lastKnownGood()!;
        // The pointer is at least what was reported (the next step may have committed before the kill landed).
        expect(lkg.generation).toBeGreaterThanOrEqual(lastLkg);
        expect(lkg.bytes.toString()).toBe(`bundle-${lkg.generation}`);
        const seqs = store.outbox.peek(1_000_000).map((r) => r.seq);
        for (const l of lines.filter((x) => x.startsWith('seq '))) expect(seqs).toContain(Number(l.slice(4)));
        expect(seqs[0]).toBeGreaterThan(maxSeq); // acked records stay gone, seqs keep growing
        maxSeq = seqs.at(-1)!;
        store.outbox.ack(maxSeq);
      } finally {
        store.close();
      }
    }
  });
});
