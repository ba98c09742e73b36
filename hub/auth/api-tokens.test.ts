// API tokens: the first admin token is written once (0600), only hashes are stored, revoked tokens
// stop working, and roles rank viewer < operator < admin.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openHubStore } from '../store/sqlite-store.ts';
import { authenticate, bootstrapAdmin, createApiToken, DEFAULT_TOKEN_TTL_MS, roleAllows } from './api-tokens.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function fresh() {
  const dir = mkdtempSync(join(tmpdir(), 'whb-tokens-'));
  dirs.push(dir);
  return { dir, db: join(dir, 'hub.db'), file: join(dir, 'admin-token') };
}

describe('API tokens', () => {
  it('writes the first admin token once, 0600, and keeps only its hash in the store', async () => {
    const f = fresh();
    const store = openHubStore(f.db);
    expect(await bootstrapAdmin(store, f.file, 1000)).toBe(true);
    const token = readFileSync(f.file, 'utf8').trim();
    expect(statSync(f.file).mode & 0o777).toBe(0o600);
    expect(await authenticate(store, token, 1000)).toMatchObject({ role: 'admin', name: 'bootstrap-admin' });
    // A later start neither mints a second admin nor rewrites the file.
    expect(await bootstrapAdmin(store, f.file, 2000)).toBe(false);
    expect(readFileSync(f.file, 'utf8').trim()).toBe(token);
    expect(await store.tokens.listApiTokens()).toHaveLength(1);
    await store.close();
    // Nothing in the database files holds the secret itself.
    for (const name of ['hub.db', 'hub.db-wal']) {
      try {
        expect(readFileSync(join(f.dir, name)).includes(Buffer.from(token))).toBe(false);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
  });

  it('refuses to mint a new admin over a stale token file', async () => {
    const f = fresh();
    writeFileSync(f.file, 'weft_stale\n');
    const store = openHubStore(f.db);
    await expect(bootstrapAdmin(store, f.file, 1000)).rejects.toThrow(/exists but the store has no token/);
    await store.close();
  });

  it('authenticates until revoked or expired, and ranks roles', async () => {
    const f = fresh();
    const store = openHubStore(f.db);
    const { id, token } = await createApiToken(store, 'ci', 'operator', 'test', 1000);
    expect(await authenticate(store, token, 1000)).toEqual({ tokenId: id, name: 'ci', role: 'operator' });
    expect(await authenticate(store, `${token}x`, 1000)).toBeNull();
    expect(await store.tokens.revokeApiToken(id, 2000)).toBe(true);
    expect(await authenticate(store, token, 2000)).toBeNull();
    // A new token expires after its time to live (default 90 days).
    const short = await createApiToken(store, 'short', 'viewer', 'test', 1000, 60_000);
    expect(short.expiresAt).toBe(new Date(61_000).toISOString());
    expect(await authenticate(store, short.token, 60_999)).not.toBeNull();
    expect(await authenticate(store, short.token, 61_000)).toBeNull();
    expect(await authenticate(store, (await createApiToken(store, 'd', 'viewer', 'test', 0)).token, DEFAULT_TOKEN_TTL_MS)).toBeNull();
    expect((await store.audit.list({ limit: 10 })).map((e) => e.action)).toContain('token.create');
    await store.close();
    expect([roleAllows('viewer', 'operator'), roleAllows('operator', 'operator'), roleAllows('operator', 'admin'), roleAllows('admin', 'viewer')]).toEqual([
      false,
      true,
      false,
      true,
    ]);
  });
});
