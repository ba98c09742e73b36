// /v1/rollouts: start a staged rollout, list, status by stage and site, roll back.
import type { FastifyInstance } from 'fastify';
import { HubError } from '../../errors.ts';
import { SelectorError } from '../../../policy/index.ts';
import { parseSelector } from '../../rollout/selector.ts';
import type { StageSpec } from '../../store/types.ts';
import { actorOf } from '../auth.ts';
import { anyArray, anyObject, errors, numericIdParam } from '../schemas.ts';
import type { HubServices } from '../services.ts';

interface RolloutBody {
  version: number;
  selector?: string;
  canary?: string[];
  percents?: number[];
  auditWindowS?: number;
  force?: boolean;
}

/** Stages from the simple request form: an optional canary set, then cumulative percentages (100 is added). */
function stagesOf(b: Pick<RolloutBody, 'canary' | 'percents'>): StageSpec[] {
  const stages: StageSpec[] = [];
  if (b.canary?.length) stages.push({ name: 'canary', sites: b.canary });
  for (const p of b.percents ?? []) stages.push({ name: `${p}%`, percent: p });
  return stages;
}

export function rolloutRoutes(app: FastifyInstance, s: HubServices): void {
  app.post<{ Body: RolloutBody }>(
    '/v1/rollouts',
    {
      config: { role: 'operator' },
      schema: {
        summary: 'Roll a policy version out in stages: canary sites, then cumulative percentages, then all; each stage gated on acks',
        tags: ['rollout'],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['version'],
          properties: {
            version: { type: 'integer', minimum: 0 },
            selector: { type: 'string', maxLength: 1024, default: '' },
            canary: { type: 'array', items: { type: 'string', maxLength: 63 }, maxItems: 1000 },
            percents: { type: 'array', items: { type: 'number', exclusiveMinimum: 0, maximum: 100 }, maxItems: 20 },
            auditWindowS: { type: 'integer', minimum: 0, maximum: 7 * 86400, default: 0 },
            force: { type: 'boolean', default: false },
          },
        },
        response: { 201: anyObject, ...errors },
      },
    },
    async (req, reply) => {
      let selector;
      try {
        selector = parseSelector(req.body.selector ?? '');
      } catch (e) {
        if (e instanceof SelectorError) throw new HubError('ROLLOUT_INVALID', e.message, { path: 'selector' });
        throw e;
      }
      const r = await s.rollouts.create(
        {
          policyVersion: req.body.version,
          selector,
          stages: stagesOf(req.body),
          auditWindowS: req.body.auditWindowS ?? 0,
          force: req.body.force,
        },
        actorOf(req),
      );
      return reply.status(201).send(await s.rollouts.status(r.id));
    },
  );

  app.get<{ Querystring: { limit: number } }>(
    '/v1/rollouts',
    {
      schema: {
        summary: 'Rollouts, newest first',
        tags: ['rollout'],
        querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 20 } } },
        response: { 200: anyArray, ...errors },
      },
    },
    async (req) => s.store.rollouts.list({ limit: req.query.limit }),
  );

  app.get<{ Params: { id: number } }>(
    '/v1/rollouts/:id',
    {
      schema: { summary: 'Rollout status by stage and site', tags: ['rollout'], params: numericIdParam, response: { 200: anyObject, ...errors } },
    },
    async (req) => s.rollouts.status(req.params.id),
  );

  app.post<{ Body: { rollout?: number } }>(
    '/v1/rollouts/rollback',
    {
      config: { role: 'operator' },
      schema: {
        summary: 'Roll back a rollout (default the latest): its sites get their previous policy as a new generation',
        tags: ['rollout'],
        body: { type: 'object', additionalProperties: false, properties: { rollout: { type: 'integer', minimum: 1 } } },
        response: { 201: anyObject, ...errors },
      },
    },
    async (req, reply) => {
      const r = await s.rollouts.rollback(req.body?.rollout, actorOf(req));
      return reply.status(201).send(await s.rollouts.status(r.id));
    },
  );
}
