// Bearer-token (or dashboard session cookie) authentication and role checks for every route. Each route declares the least role
// it needs in its config; a route without one needs 'viewer' (closed by default). Only routes that
// say role: 'public' (the CA, enrollment with its own token), the API docs and the router's end-user
// redirects (/go/...) are open.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { roleAllows, type Principal } from '../auth/api-tokens.ts';
import { authenticateBearer, authenticateSession, principalStillValid, sessionCookie } from '../auth/sessions.ts';
import { HubError } from '../errors.ts';
import type { HubStore, Role } from '../store/types.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    role?: Role | 'public';
  }
}

/** Routes other plugins register that must stay open: API docs, and end users following /go/<service>. */
const PUBLIC_PREFIXES = ['/docs', '/go/'];

/** True for routes anyone may call: role 'public' in their config, or under PUBLIC_PREFIXES. */
export function isPublicRoute(url: string | undefined, config: { role?: Role | 'public' } | undefined): boolean {
  const need = config?.role ?? (url && PUBLIC_PREFIXES.some((p) => url.startsWith(p)) ? 'public' : 'viewer');
  return need === 'public';
}

export function actorOf(req: FastifyRequest): string {
  return req.principal ? `token/${req.principal.tokenId}(${req.principal.name})` : 'anonymous';
}

/** How often a long-lived request (an event stream) checks that its token is still good. */
export const RECHECK_MS = 5000;

export function registerAuth(app: FastifyInstance, store: HubStore, now: () => number, recheckMs = RECHECK_MS): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (req, reply) => {
    if (isPublicRoute(req.routeOptions.url, req.routeOptions.config) || req.routeOptions.url === undefined) return;
    const need = req.routeOptions.config?.role ?? 'viewer';
    if (need === 'public') return;
    const header = req.headers.authorization;
    const m = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    const cookie = m ? null : sessionCookie(req.headers.cookie);
    if (!m && !cookie) throw new HubError('UNAUTHORIZED', 'missing bearer token: run `weft login` or send Authorization: Bearer <token>');
    const p = m ? await authenticateBearer(store, m[1], now()) : await authenticateSession(store, cookie!, now());
    if (!p) throw new HubError('UNAUTHORIZED', 'invalid, expired or revoked token');
    if (!roleAllows(p.role, need)) throw new HubError('FORBIDDEN', `this needs role ${need}; the token has role ${p.role}`);
    req.principal = p;
    // A request still open later (an event stream) ends when its token is revoked or expires.
    // A store that cannot answer (PostgreSQL down) keeps the stream: the next check decides.
    const recheck = setInterval(() => {
      principalStillValid(store, p.tokenId, now()).then(
        (ok) => {
          if (!ok) reply.raw.destroy();
        },
        () => {},
      );
    }, recheckMs).unref();
    reply.raw.once('close', () => clearInterval(recheck));
  });
}
