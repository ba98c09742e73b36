// The hub itself: its CA (public, for pinning), who am I, API tokens, signing keys and rotation, audit log, metrics.
import type { FastifyInstance } from 'fastify';
import { createApiToken, ROLES } from '../../auth/api-tokens.ts';
import { HubError } from '../../errors.ts';
import type { Role } from '../../store/types.ts';
import { actorOf } from '../auth.ts';
import { anyArray, anyObject, errors, idParam } from '../schemas.ts';
import type { HubServices } from '../services.ts';

export function adminRoutes(app: FastifyInstance, s: HubServices): void {
  app.get(
    '/v1/ca',
    {
      config: { role: 'public' },
      schema: {
        summary: 'The hub CA certificate and its fingerprint (sha256 of the DER, hex); compare the fingerprint out of band',
        tags: ['hub'],
        response: { 200: { type: 'object', properties: { fingerprint: { type: 'string' }, certPem: { type: 'string' } } } },
      },
    },
    async () => s.ca,
  );

  app.get(
    '/v1/whoami',
    {
      schema: { summary: "The caller's token", tags: ['hub'], response: { 200: anyObject, ...errors } },
    },
    async (req) => req.principal,
  );

  app.post<{ Body: { name: string; role: Role; ttlDays?: number } }>(
    '/v1/tokens',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'Create an API token (shown once)',
        tags: ['hub'],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'role'],
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 128 },
            role: { type: 'string', enum: [...ROLES] },
            ttlDays: { type: 'integer', minimum: 1, maximum: 3650, description: 'lifetime (default 90 days)' },
          },
        },
        response: { 201: anyObject, ...errors },
      },
    },
    async (req, reply) =>
      reply
        .status(201)
        .send(
          await createApiToken(
            s.store,
            req.body.name,
            req.body.role,
            actorOf(req),
            s.now(),
            req.body.ttlDays === undefined ? undefined : req.body.ttlDays * 86_400_000,
          ),
        ),
  );

  app.get(
    '/v1/tokens',
    {
      config: { role: 'admin' },
      schema: { summary: 'API tokens (never their secrets)', tags: ['hub'], response: { 200: anyArray, ...errors } },
    },
    async () => s.store.tokens.listApiTokens(),
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/tokens/:id',
    {
      config: { role: 'admin' },
      schema: { summary: 'Revoke an API token', tags: ['hub'], params: idParam, response: { 204: { type: 'null' }, ...errors } },
    },
    async (req, reply) => {
      const t = s.now();
      const ok = await s.store.tx(async (tx) => {
        const done = await tx.tokens.revokeApiToken(req.params.id, t);
        if (done) await tx.audit.record({ at: t, actor: actorOf(req), action: 'token.revoke', target: `token/${req.params.id}`, details: {} });
        return done;
      });
      if (!ok) throw new HubError('NOT_FOUND', `no active token ${req.params.id}`);
      return reply.status(204).send();
    },
  );

  app.get(
    '/v1/signing-keys',
    {
      schema: { summary: 'Bundle-signing keys: trusted now, and which signs', tags: ['hub'], response: { 200: anyObject, ...errors } },
    },
    async () => ({ active: s.keys.active(s.now()).keyId, trusted: s.keys.trusted(s.now()) }),
  );

  app.post(
    '/v1/signing-keys/rotate',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'Rotate the bundle-signing key: the new key is published now and signs after the activation delay',
        tags: ['hub'],
        response: { 201: anyObject, ...errors },
      },
    },
    async (req, reply) => {
      const t = s.now();
      const k = await s.keys.rotate(t);
      await s.store.audit.record({ at: t, actor: actorOf(req), action: 'keys.rotate', target: `key/${k.keyId}`, details: { activatesAt: k.activatedAt } });
      await s.bundles.publishKeys();
      return reply.status(201).send(k);
    },
  );

  app.post<{ Params: { keyId: string } }>(
    '/v1/signing-keys/:keyId/revoke',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'Revoke a compromised bundle-signing key now: the standby signs, and agents drop the key with the next key set (one push)',
        tags: ['hub'],
        params: { type: 'object', required: ['keyId'], properties: { keyId: { type: 'string', pattern: '^[0-9a-f]{16}$' } } },
        response: { 200: anyObject, ...errors },
      },
    },
    async (req) => {
      const t = s.now();
      const r = await s.keys.revoke(req.params.keyId, t);
      await s.store.audit.record({ at: t, actor: actorOf(req), action: 'keys.revoke', target: `key/${r.revoked}`, details: { active: r.active } });
      await s.bundles.publishKeys();
      return r;
    },
  );

  app.get<{ Querystring: { target?: string; limit: number } }>(
    '/v1/audit',
    {
      schema: {
        summary: 'Audit log: who changed what, when; newest first',
        tags: ['hub'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { target: { type: 'string', maxLength: 256 }, limit: { type: 'integer', minimum: 1, maximum: 10000, default: 100 } },
        },
        response: { 200: anyArray, ...errors },
      },
    },
    async (req) => s.store.audit.list({ target: req.query.target, limit: req.query.limit }),
  );

  app.get(
    '/metrics',
    {
      schema: { summary: 'Prometheus metrics', tags: ['hub'], produces: ['text/plain'], response: { 200: { type: 'string' } } },
    },
    async (_req, reply) => reply.type(s.registry.contentType).send(await s.registry.metrics()),
  );
}
