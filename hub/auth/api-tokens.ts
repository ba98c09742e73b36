// Ops API tokens with roles. viewer reads; operator changes policy, rollouts and drain state;
// admin also creates sites and tokens, and revokes. The first admin token is made on first start
// and written once to a 0600 file.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeSecret } from '../pki/files.ts';
import type { ApiTokenRecord, HubStore, Role } from '../store/types.ts';
import { hashSecret, newSecret } from './secrets.ts';

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

export const ROLES: readonly Role[] = ['viewer', 'operator', 'admin'];

export function roleAllows(have: Role, need: Role): boolean {
  return RANK[have] >= RANK[need];
}

export interface Principal {
  tokenId: string;
  name: string;
  role: Role;
}

/** How long a new API token lives unless asked otherwise: a leaked token is not good for ever. */
export const DEFAULT_TOKEN_TTL_MS = 90 * 86_400_000;

export async function createApiToken(
  store: HubStore,
  name: string,
  role: Role,
  actor: string,
  now: number,
  ttlMs: number | null = DEFAULT_TOKEN_TTL_MS,
): Promise<{ id: string; token: string; expiresAt: string | null }> {
  const id = randomBytes(6).toString('hex');
  const token = newSecret('weft');
  const expiresAt = ttlMs === null ? null : now + ttlMs;
  await store.tx(async (tx) => {
    await tx.tokens.addApiToken({ id, name, role, hash: hashSecret(token), createdAt: now, revokedAt: null, expiresAt });
    await tx.audit.record({ at: now, actor, action: 'token.create', target: `token/${id}`, details: { name, role, expiresAt } });
  });
  return { id, token, expiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString() };
}

const usable = (t: ApiTokenRecord | undefined, now: number): t is ApiTokenRecord =>
  t !== undefined && t.revokedAt === null && (t.expiresAt === null || t.expiresAt > now);

export async function authenticate(store: HubStore, token: string, now: number): Promise<Principal | null> {
  const t = await store.tokens.apiTokenByHash(hashSecret(token));
  if (!usable(t, now)) return null;
  return { tokenId: t.id, name: t.name, role: t.role };
}

/** Is the token behind a principal still good (not revoked, not expired)? Long-lived requests ask again. */
export async function stillValid(store: HubStore, tokenId: string, now: number): Promise<boolean> {
  return usable(await store.tokens.apiToken(tokenId), now);
}

/** Creates the first admin token when the hub has none, and writes it to `path` (0600). Returns whether it did. */
export async function bootstrapAdmin(store: HubStore, path: string, now: number): Promise<boolean> {
  if ((await store.tokens.listApiTokens()).length > 0) return false;
  if (existsSync(path)) throw new Error(`${path} exists but the store has no token: remove the stale file and restart`);
  // No expiry: the break-glass key, readable only by root on the hub itself. Ops make named tokens that expire.
  const { token } = await createApiToken(store, 'bootstrap-admin', 'admin', 'hub', now, null);
  writeSecret(path, `${token}\n`);
  return true;
}
