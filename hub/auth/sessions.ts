// Dashboard sessions: a browser signs in once with an API token and gets a short-lived session in an
// HttpOnly, SameSite=Strict cookie, so the page's script never holds the token and EventSource (which
// cannot send headers) is authenticated too. A session is an API token of its own that expires after
// SESSION_TTL_MS, named after the token it came from: it works on every hub replica (the store is
// shared), shows in `weft token list`, dies at logout, at its expiry, and the moment its parent token
// is revoked or expires.
import type { HubStore } from '../store/types.ts';
import { authenticate, createApiToken, type Principal, stillValid } from './api-tokens.ts';

export const SESSION_COOKIE = 'weft_session';
export const SESSION_TTL_MS = 8 * 3600_000;
const PREFIX = 'session/';

/** A new session for a signed-in principal; the secret goes into the cookie only. */
export async function createSession(store: HubStore, parent: Principal, now: number): Promise<{ token: string; expiresAt: number }> {
  const { token } = await createApiToken(store, `${PREFIX}${parent.tokenId}`, parent.role, `token/${parent.tokenId}(${parent.name})`, now, SESSION_TTL_MS);
  return { token, expiresAt: now + SESSION_TTL_MS };
}

const parentOf = async (store: HubStore, sessionId: string): Promise<string | null> => {
  const name = (await store.tokens.apiToken(sessionId))?.name;
  return name?.startsWith(PREFIX) ? name.slice(PREFIX.length) : null;
};

/** The principal of a session, named after its parent token; null when unknown, expired, or its parent is no longer good. */
export async function authenticateSession(store: HubStore, token: string, now: number): Promise<Principal | null> {
  const p = await authenticate(store, token, now);
  const parentId = p && p.name.startsWith(PREFIX) ? p.name.slice(PREFIX.length) : null;
  const parent = parentId ? await store.tokens.apiToken(parentId) : undefined;
  if (!p || !parentId || !parent || !(await stillValid(store, parentId, now))) return null;
  return { tokenId: p.tokenId, name: `${parent.name} (dashboard)`, role: p.role };
}

/** A bearer token: an API token, or a session (then under the session's rules). */
export async function authenticateBearer(store: HubStore, token: string, now: number): Promise<Principal | null> {
  const p = await authenticate(store, token, now);
  return p?.name.startsWith(PREFIX) ? authenticateSession(store, token, now) : p;
}

/** Whether a principal's token (and, for a session, its parent) is still good: long-lived requests ask again. */
export async function principalStillValid(store: HubStore, tokenId: string, now: number): Promise<boolean> {
  const parent = await parentOf(store, tokenId);
  return (await stillValid(store, tokenId, now)) && (parent === null || (await stillValid(store, parent, now)));
}

/** Ends a session (logout): its token is revoked. */
export async function endSession(store: HubStore, p: Principal, now: number): Promise<void> {
  await store.tokens.revokeApiToken(p.tokenId, now);
}

/** The session cookie from a Cookie header, if any. */
export function sessionCookie(header: string | undefined): string | null {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === SESSION_COOKIE) return v.join('=') || null;
  }
  return null;
}

export function setCookie(token: string, maxAgeS: number): string {
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=${maxAgeS}`;
}
