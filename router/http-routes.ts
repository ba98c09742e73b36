// HTTP side of the router: GET /go/<service>/<path...> redirects to the chosen site, and
// GET /v1/route explains a decision. The hub registers this plugin with its Router.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Router } from './router.ts';

const errorBody = {
  type: 'object',
  required: ['code', 'message'],
  properties: { code: { type: 'string' }, message: { type: 'string' } },
} as const;

const nullableNumber = { type: ['number', 'null'] } as const;

const explanationSchema = {
  type: 'object',
  required: ['service', 'client', 'outcome', 'reason', 'chosen', 'candidates'],
  properties: {
    service: { type: 'string' },
    client: {
      type: 'object',
      properties: {
        ip: { type: 'string' },
        method: { type: 'string', enum: ['cidr-site', 'cidr-region', 'geo-db', 'default'] },
        how: { type: 'string' },
        network: { type: ['string', 'null'] },
        lat: nullableNumber,
        lon: nullableNumber,
      },
    },
    outcome: { type: 'string', enum: ['healthy', 'fail-open', 'fail-closed', 'unknown-service'] },
    reason: { type: 'string' },
    chosen: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          siteId: { type: 'string' },
          name: { type: 'string' },
          addresses: { type: 'array', items: { type: 'string' } },
          url: { type: ['string', 'null'] },
        },
      },
    },
    candidates: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          siteId: { type: 'string' },
          name: { type: 'string' },
          health: { type: 'string' },
          distanceKm: nullableNumber,
          load: { type: 'number' },
          capacity: { type: 'number' },
          loadRatio: nullableNumber,
          rank: { type: ['integer', 'null'] },
          excluded: { type: ['string', 'null'] },
        },
      },
    },
  },
} as const;

const SERVICE = '^[A-Za-z0-9_-]{1,63}$';

/** Raw path after /go/<service>/ and the raw query, exactly as sent (no decode/re-encode round trip). */
function rawRest(url: string): { path: string; query: string } {
  const q = url.indexOf('?');
  const pathname = q >= 0 ? url.slice(0, q) : url;
  const afterGo = pathname.slice('/go/'.length);
  const slash = afterGo.indexOf('/');
  return { path: slash >= 0 ? afterGo.slice(slash + 1) : '', query: q >= 0 ? url.slice(q + 1) : '' };
}

export const routerRoutes: FastifyPluginAsync<{ router: Router }> = async (app, { router }) => {
  const go = async (req: FastifyRequest<{ Params: { service: string } }>, reply: FastifyReply) => {
    reply.header('cache-control', 'no-store');
    const r = router.redirect(req.params.service.toLowerCase(), req.ip);
    if (r.kind === 'unknown') return reply.code(404).send({ code: 'ROUTER_UNKNOWN_SERVICE', message: `no site offers service ${req.params.service}` });
    if (r.kind === 'unavailable') return reply.code(503).header('retry-after', '5').send({ code: 'ROUTER_NO_HEALTHY_SITE', message: r.reason });
    const { path, query } = rawRest(req.raw.url ?? '');
    return reply.redirect(`${r.url.replace(/\/+$/, '')}/${path}${query ? `?${query}` : ''}`, 302);
  };
  const goSchema = {
    params: { type: 'object', required: ['service'], properties: { service: { type: 'string', pattern: SERVICE } } },
    response: { 404: errorBody, 503: errorBody },
  };
  app.get('/go/:service', { schema: goSchema }, go);
  app.get('/go/:service/*', { schema: goSchema }, go);

  app.get<{ Querystring: { service: string; ip?: string } }>(
    '/v1/route',
    {
      schema: {
        querystring: { type: 'object', required: ['service'], properties: { service: { type: 'string', pattern: SERVICE }, ip: { type: 'string' } } },
        response: { 200: explanationSchema, 400: errorBody },
      },
    },
    async (req, reply) => {
      const ip = req.query.ip ?? req.ip;
      const e = router.explain(req.query.service.toLowerCase(), ip);
      if (!e) return reply.code(400).send({ code: 'ROUTER_BAD_IP', message: `"${ip}" is not an IP address` });
      return e;
    },
  );
};
