// Secret files reach the disk before they are used: checked on a real process with strace, the only
// way to see an fsync from outside (a power cut cannot be staged in a test).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'weft-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeSecret', () => {
  it('writes 0600, fsyncs the file before the rename and the directory after it, and leaves no temp file', () => {
    const target = join(dir, 'keys', 'a.key');
    const script = join(dir, 'write.ts');
    writeFileSync(
      script,
      `import { writeSecret } from ${JSON.stringify(join(import.meta.dirname, 'files.ts'))};\nwriteSecret(process.argv[2], 'secret\\n');\n`,
    );
    const log = join(dir, 'trace');
    const tsx = createRequire(import.meta.url).resolve('tsx/cli');
    execFileSync('strace', ['-f', '-o', log, '-e', 'trace=fsync,fdatasync,rename,renameat,renameat2', process.execPath, tsx, script, target], {
      stdio: 'ignore',
    });
    const calls = readFileSync(log, 'utf8')
      .split('\n')
      .map((l) => /\b(fsync|fdatasync|rename\w*)\(([^)]*)/.exec(l))
      .filter((m) => m !== null && (m[1].startsWith('f') || m[2].includes('a.key.tmp')))
      .map((m) => m![1].replace(/^(rename)\w*/, '$1').replace('fdatasync', 'fsync'));
    const rename = calls.indexOf('rename');
    expect(rename).toBeGreaterThan(0);
    expect(calls.slice(0, rename)).toContain('fsync');
    expect(calls.slice(rename + 1)).toContain('fsync');
    expect(readFileSync(target, 'utf8')).toBe('secret\n');
    expect(statSync(target).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, 'keys'))).toEqual(['a.key']);
  });
});
