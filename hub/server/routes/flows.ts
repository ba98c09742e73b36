// /v1/flows and /v1/counters: telemetry queries by site, policy, verdict and time.
import type { FastifyInstance } from 'fastify';
import type { EventVerdict } from '../../../protocol/index.ts';
import { anyArray, errors } from '../schemas.ts';
import type { HubServices } from '../services.ts';

interface Q {
  site?: string;
  policy?: string;
  verdict?: EventVerdict;
  since?: string;
  until?: string;
  limit: number;
}

const query = {
  type: 'object',
  additionalProperties: false,
  properties: {
    site: { type: 'string', maxLength: 63 },
    policy: { type: 'string', maxLength: 512, description: 'Kind/namespace/name, or Kind/name for cluster-scoped kinds' },
    verdict: { type: 'string', enum: ['allow', 'deny', 'audit'] },
    since: { type: 'string', format: 'date-time' },
    until: { type: 'string', format: 'date-time' },
    limit: { type: 'integer', minimum: 1, maximum: 10000, default: 100 },
  },
} as const;

const filter = (q: Q) => ({
  siteId: q.site,
  policy: q.policy,
  verdict: q.verdict,
  since: q.since ? Date.parse(q.since) : undefined,
  until: q.until ? Date.parse(q.until) : undefined,
});

export function flowRoutes(app: FastifyInstance, s: HubServices): void {
  app.get<{ Querystring: Q }>(
    '/v1/flows',
    {
      schema: { summary: 'Verdict events, newest first', tags: ['telemetry'], querystring: query, response: { 200: anyArray, ...errors } },
    },
    async (req) => s.store.telemetry.flows({ ...filter(req.query), limit: req.query.limit }),
  );

  app.get<{ Querystring: Q }>(
    '/v1/counters',
    {
      schema: {
        summary: 'Packet and byte counters summed by site, policy and verdict',
        tags: ['telemetry'],
        querystring: query,
        response: { 200: anyArray, ...errors },
      },
    },
    async (req) => s.store.telemetry.counters(filter(req.query)),
  );
}
