import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreatePrivateKey, readPrivateKey, writePrivateKey } from './key-file.ts';
import { WgPrivateKey } from './keys.ts';

const dir = mkdtempSync(join(tmpdir(), 'weft-keyfile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('private key file', () => {
  it('creates the key once, 0600, and loads the same key after', () => {
    const path = join(dir, 'wg.key');
    const first = loadOrCreatePrivateKey(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8').trim()).toBe(first.revealBase64());
    expect(loadOrCreatePrivateKey(path).publicKey()).toBe(first.publicKey());
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('replaces a key atomically', () => {
    const path = join(dir, 'rotate.key');
    writePrivateKey(path, WgPrivateKey.generate());
    const next = WgPrivateKey.generate();
    writePrivateKey(path, next);
    expect(readPrivateKey(path).publicKey()).toBe(next.publicKey());
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('refuses a key file others can read, with a chmod hint', () => {
    const path = join(dir, 'open.key');
    writePrivateKey(path, WgPrivateKey.generate());
    chmodSync(path, 0o644);
    expect(() => readPrivateKey(path)).toThrow(expect.objectContaining({ code: 'TUNNEL_KEY_FILE', hint: `chmod 600 ${path}` }));
  });

  it('reports a file that holds no key, and a directory that does not exist', () => {
    const path = join(dir, 'garbage.key');
    writeFileSync(path, 'hello\n', { mode: 0o600 });
    expect(() => readPrivateKey(path)).toThrow(expect.objectContaining({ code: 'TUNNEL_KEY_FILE', detail: { file: path } }));
    expect(() => writePrivateKey(join(dir, 'no/such/dir/k'), WgPrivateKey.generate())).toThrow(expect.objectContaining({ code: 'TUNNEL_KEY_FILE' }));
  });
});
