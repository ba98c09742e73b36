// Ops API tokens with roles. viewer reads; operator changes policy, rollouts and drain state;
// admin also creates sites and tokens, and revokes. The first admin token is made on first start
// and written once to a 0600 file.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeSecret } from '../pki/files.ts';
import type { HubStore, Role } from '../store/types.ts';
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

export function createApiToken(store: HubStore, name: string, role: Role, actor: string, now: number): { id: string; token: string } {
  const id = randomBytes(6).toString('hex');
  const token = newSecret('weft');
  store.tx(() => {
    store.tokens.addApiToken({ id, name, role, hash: hashSecret(token), createdAt: now, revokedAt: null });
    store.audit.record({ at: now, actor, action: 'token.create', target: `token/${id}`, details: { name, role } });
  });
  return { id, token };
}

export function authenticate(store: HubStore, token: string): Principal | null {
  const t = store.tokens.apiTokenByHash(hashSecret(token));
  if (!t || t.revokedAt !== null) return null;
  return { tokenId: t.id, name: t.name, role: t.role };
}

/** Creates the first admin token when the hub has none, and writes it to `path` (0600). Returns whether it did. */
export function bootstrapAdmin(store: HubStore, path: string, now: number): boolean {
  if (store.tokens.listApiTokens().length > 0) return false;
  if (existsSync(path)) throw new Error(`${path} exists but the store has no token: remove the stale file and restart`);
  const { token } = createApiToken(store, 'bootstrap-admin', 'admin', 'hub', now);
  writeSecret(path, `${token}\n`);
  return true;
}
