// /v1/session: the dashboard signs in with an API token and gets a short-lived session cookie
// (HttpOnly, Secure, SameSite=Strict); DELETE signs out. The same role as the token, nothing more.
import type { FastifyInstance } from 'fastify';
import { authenticate } from '../../auth/api-tokens.ts';
import { createSession, endSession, SESSION_TTL_MS, sessionCookie, setCookie } from '../../auth/sessions.ts';
import { HubError } from '../../errors.ts';
import { errors } from '../schemas.ts';
import type { HubServices } from '../services.ts';

const sessionView = {
  type: 'object',
  required: ['name', 'role', 'expiresAt'],
  additionalProperties: false,
  properties: { name: { type: 'string' }, role: { type: 'string', enum: ['viewer', 'operator', 'admin'] }, expiresAt: { type: 'string', format: 'date-time' } },
} as const;

export function sessionRoutes(app: FastifyInstance, s: HubServices): void {
  app.post<{ Body: { token: string } }>(
    '/v1/session',
    {
      config: { role: 'public' },
      schema: {
        summary: 'Sign in to the dashboard with an API token: sets a short-lived HttpOnly session cookie with the same role',
        tags: ['hub'],
        security: [],
        body: { type: 'object', additionalProperties: false, required: ['token'], properties: { token: { type: 'string', minLength: 1, maxLength: 256 } } },
        response: { 201: sessionView, ...errors },
      },
    },
    async (req, reply) => {
      const p = await authenticate(s.store, req.body.token, s.now());
      if (!p || p.name.startsWith('session/')) throw new HubError('UNAUTHORIZED', 'invalid or revoked token');
      const { token, expiresAt } = await createSession(s.store, p, s.now());
      reply.header('set-cookie', setCookie(token, Math.floor(SESSION_TTL_MS / 1000)));
      return reply.status(201).send({ name: p.name, role: p.role, expiresAt: new Date(expiresAt).toISOString() });
    },
  );

  app.delete(
    '/v1/session',
    {
      schema: { summary: 'Sign out: the session ends at once and its cookie is cleared', tags: ['hub'], response: { 204: { type: 'null' }, ...errors } },
    },
    async (req, reply) => {
      if (req.principal && sessionCookie(req.headers.cookie) && !req.headers.authorization) await endSession(s.store, req.principal, s.now());
      reply.header('set-cookie', setCookie('', 0));
      return reply.status(204).send();
    },
  );
}
