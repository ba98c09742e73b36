// A durable transaction is on disk when it returns; an ordinary one is not synced (the store runs
// synchronous=NORMAL for throughput). Seen from outside with strace: fsyncs of the WAL per commit.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'weft-durable-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `body` (with `store` open on a fresh hub.db) under strace; returns how many fsyncs it made after the store was open. */
function fsyncsOf(name: string, body: string): number {
  const script = join(dir, `${name}.ts`);
  // The marker lookups show up in the trace and bracket the calls under test.
  writeFileSync(
    script,
    [
      "import { existsSync } from 'node:fs';",
      `import { openHubStore } from ${JSON.stringify(join(import.meta.dirname, 'sqlite-store.ts'))};`,
      `const store = openHubStore(${JSON.stringify(join(dir, `${name}.db`))});`,
      // The store is async: the body runs in an async function (the script may load as CommonJS, without top-level await).
      'void (async () => {',
      "existsSync('/weft-durable-mark-start');",
      body,
      "existsSync('/weft-durable-mark-end');",
      '})();',
    ].join('\n'),
  );
  const log = join(dir, `${name}.trace`);
  const tsx = createRequire(import.meta.url).resolve('tsx/cli');
  execFileSync('strace', ['-f', '-o', log, '-e', 'trace=fsync,fdatasync,access,faccessat,faccessat2,stat,newfstatat,statx', process.execPath, tsx, script], {
    stdio: 'ignore',
  });
  const lines = readFileSync(log, 'utf8').split('\n');
  const start = lines.findIndex((l) => l.includes('weft-durable-mark-start'));
  const end = lines.findIndex((l) => l.includes('weft-durable-mark-end'));
  expect(start).toBeGreaterThan(-1);
  return lines.slice(start, end).filter((l) => /\b(fsync|fdatasync)\(/.test(l)).length;
}

describe('durable transactions', () => {
  it('an ordinary commit is not synced; a durable one is', () => {
    const site = `await store.sites.create('s1', { name: 's1', labels: {}, lat: 0, lon: 0, clientCidrs: [], capacity: 1, services: [] }, 1);`;
    expect(fsyncsOf('plain', `${site}\nfor (let i = 0; i < 5; i++) await store.tx((t) => t.rollouts.nextGeneration('s1'));`)).toBe(0);
    expect(fsyncsOf('durable', `${site}\nawait store.tx((t) => t.rollouts.nextGeneration('s1'), { durable: true });`)).toBeGreaterThan(0);
  });
});
