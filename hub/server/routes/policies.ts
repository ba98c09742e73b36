// /v1/policies: push (validated by the policy core), history, one version, diff.
import type { FastifyInstance } from 'fastify';
import { actorOf } from '../auth.ts';
import { anyArray, anyObject, errors, numericIdParam } from '../schemas.ts';
import type { HubServices } from '../services.ts';
import type { PolicyFile } from '../../rollout/policy-versions.ts';

export function policyRoutes(app: FastifyInstance, s: HubServices): void {
  app.post<{ Body: { files: PolicyFile[]; message: string } }>(
    '/v1/policies',
    {
      config: { role: 'operator' },
      schema: {
        summary:
          'Push a new policy version (400 POLICY_INVALID lists every error with file, document and path; warnings name deprecated ANP/BANP, stored as ClusterNetworkPolicy)',
        tags: ['policy'],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['files', 'message'],
          properties: {
            message: { type: 'string', minLength: 1, maxLength: 4096 },
            files: {
              type: 'array',
              minItems: 1,
              maxItems: 1000,
              items: {
                type: 'object',
                additionalProperties: false,
                required: ['name', 'content'],
                properties: { name: { type: 'string', minLength: 1, maxLength: 1024 }, content: { type: 'string' } },
              },
            },
          },
        },
        response: { 201: anyObject, ...errors },
      },
    },
    async (req, reply) => {
      const v = await s.policies.push(req.body.files, req.body.message, actorOf(req));
      return reply
        .status(201)
        .send({ version: v.version, author: v.author, message: v.message, createdAt: v.createdAt, objects: v.objects.length, warnings: v.warnings });
    },
  );

  app.get<{ Querystring: { limit: number } }>(
    '/v1/policies',
    {
      schema: {
        summary: 'Policy version history, newest first',
        tags: ['policy'],
        querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 } } },
        response: { 200: anyArray, ...errors },
      },
    },
    async (req) => s.store.policies.history(req.query.limit),
  );

  app.get<{ Querystring: { from: number; to: number } }>(
    '/v1/policies/diff',
    {
      schema: {
        summary: 'Diff two versions (0 is the empty set)',
        tags: ['policy'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['from', 'to'],
          properties: { from: { type: 'integer', minimum: 0 }, to: { type: 'integer', minimum: 0 } },
        },
        response: { 200: anyObject, ...errors },
      },
    },
    async (req) => s.policies.diff(req.query.from, req.query.to),
  );

  app.get<{ Params: { id: number } }>(
    '/v1/policies/:id',
    {
      schema: { summary: 'One policy version with its YAML', tags: ['policy'], params: numericIdParam, response: { 200: anyObject, ...errors } },
    },
    async (req) => s.policies.require(req.params.id),
  );
}
