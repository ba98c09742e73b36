import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashPassword, randomSecret, verifyPassword } from './password.ts';

const havePasswd = spawnSync('mosquitto_passwd', ['-h']).error === undefined;
if (!havePasswd) console.warn('skipping the mosquitto_passwd cross-check: mosquitto not installed');

describe('broker passwords ($7$ PBKDF2-SHA512)', () => {
  it('verifies its own hashes and refuses other passwords', () => {
    const secret = randomSecret();
    const h = hashPassword(secret);
    expect(h).toMatch(/^\$7\$101\$[A-Za-z0-9+/=]{16}\$[A-Za-z0-9+/=]{88}$/);
    expect(verifyPassword(secret, h)).toBe(true);
    expect(verifyPassword(`${secret}x`, h)).toBe(false);
    expect(hashPassword(secret)).not.toBe(h); // salted
  });

  it.each([
    ['', 'empty'],
    ['$6$abc$def', 'other scheme'],
    ['$7$101$c2FsdA==$c2hvcnQ=', 'short hash'],
    ['$7$0$c2FsdA==$' + 'A'.repeat(88), 'zero iterations'],
  ])('rejects a malformed hash: %s (%s)', (hash) => expect(verifyPassword('x', hash)).toBe(false));

  it.skipIf(!havePasswd)('agrees with the real mosquitto_passwd', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-passwd-'));
    try {
      const file = join(dir, 'passwd');
      expect(spawnSync('mosquitto_passwd', ['-c', '-b', file, 'site-a', 'correct horse']).status).toBe(0);
      const hash = readFileSync(file, 'utf8').trim().split(':')[1];
      expect(verifyPassword('correct horse', hash)).toBe(true);
      expect(verifyPassword('wrong', hash)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
