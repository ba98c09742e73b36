// POST /v1/policies/what-if: a candidate version against the flows recorded at the sites a rollout
// would target, over a window: which flows it would deny that are allowed today, and the reverse,
// grouped by policy and rule. Read-only, so a viewer may ask. `weft policy what-if` calls it.
import type { FastifyInstance } from 'fastify';
import { HubError } from '../../errors.ts';
import { SelectorError } from '../../../policy/index.ts';
import { parseSelector } from '../../rollout/selector.ts';
import { whatIfRollout } from '../../rollout/what-if.ts';
import { anyObject, errors } from '../schemas.ts';
import type { HubServices } from '../services.ts';

interface Body {
  version: number;
  selector: string;
  windowS: number;
}

export function whatIfRoutes(app: FastifyInstance, s: HubServices): void {
  app.post<{ Body: Body }>(
    '/v1/policies/what-if',
    {
      schema: {
        summary: 'Evaluate a policy version against the flows recorded at the targeted sites: flows it would newly deny or allow, by policy and rule',
        tags: ['policy'],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['version'],
          properties: {
            version: { type: 'integer', minimum: 0 },
            selector: { type: 'string', maxLength: 1024, default: '' },
            windowS: { type: 'integer', minimum: 1, maximum: 30 * 86400, default: 86400 },
          },
        },
        response: { 200: anyObject, ...errors },
      },
    },
    async (req) => {
      let selector;
      try {
        selector = parseSelector(req.body.selector);
      } catch (e) {
        if (e instanceof SelectorError) throw new HubError('ROLLOUT_INVALID', e.message, { path: 'selector' });
        throw e;
      }
      return await whatIfRollout(s.store, { version: req.body.version, selector, windowMs: req.body.windowS * 1000 }, s.now());
    },
  );
}
