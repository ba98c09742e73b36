// GET /v1/health (every site's health, JSON) and GET /v1/health/events (server-sent events: one
// `health` event per change, pushed the moment the model emits it). Registered by the hub app, whose
// auth hook applies (viewer role by default).
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { compareCodeUnits } from '../../policy/index.ts';
import type { HealthModel, SiteHealthEvent, SiteHealthState } from '../../router/index.ts';

export interface HealthRoutesOptions {
  health: HealthModel;
  /** SSE comment lines keep idle connections open through proxies. Default 15 s. */
  keepaliveMs?: number;
}

const check = {
  type: 'object',
  required: ['name', 'ok'],
  additionalProperties: false,
  properties: { name: { type: 'string' }, ok: { type: 'boolean' }, detail: { type: 'string' } },
} as const;

const siteHealth = {
  type: 'object',
  additionalProperties: false,
  required: [
    'siteId',
    'health',
    'condition',
    'since',
    'draining',
    'lastHeartbeatAt',
    'load',
    'checks',
    'appliedGeneration',
    'nodeReady',
    'kernelEnforcing',
    'notEnforcing',
    'reason',
  ],
  properties: {
    siteId: { type: 'string' },
    health: { type: 'string', enum: ['online', 'degraded', 'draining', 'offline'] },
    condition: { type: 'string', enum: ['online', 'degraded', 'offline'] },
    since: { type: 'string', format: 'date-time' },
    draining: { type: 'boolean' },
    lastHeartbeatAt: { type: ['string', 'null'], format: 'date-time' },
    load: { type: 'number' },
    checks: { type: 'array', items: check },
    appliedGeneration: { type: ['integer', 'null'] },
    nodeReady: { type: ['boolean', 'null'] },
    kernelEnforcing: { type: ['boolean', 'null'], description: 'the site filters packets in the kernel (latest heartbeat); null: not heard yet' },
    notEnforcing: {
      type: ['object', 'null'],
      additionalProperties: false,
      required: ['code', 'reason'],
      properties: { code: { type: 'string' }, reason: { type: 'string' } },
      description: "why not, with the agent's error code",
    },
    reason: { type: 'string' },
  },
} as const;

/** A bad query (400) and a missing or bad token (401: any role may read health); the `Error` schema is the app's. */
const AUTH_ERRORS = { 400: { $ref: 'Error#' }, 401: { $ref: 'Error#' } } as const;

export function healthView(s: SiteHealthState) {
  return {
    siteId: s.siteId,
    health: s.health,
    condition: s.condition,
    since: new Date(s.since).toISOString(),
    draining: s.draining,
    lastHeartbeatAt: s.lastHeartbeatAt === null ? null : new Date(s.lastHeartbeatAt).toISOString(),
    load: s.load,
    checks: s.checks,
    appliedGeneration: s.appliedGeneration,
    nodeReady: s.nodeReady,
    kernelEnforcing: s.kernelEnforcing,
    notEnforcing: s.notEnforcing,
    reason: s.lastReason,
  };
}

export const healthRoutes: FastifyPluginAsync<HealthRoutesOptions> = async (app: FastifyInstance, opts) => {
  const { health } = opts;
  const keepaliveMs = opts.keepaliveMs ?? 15_000;

  app.get<{ Querystring: { site?: string } }>(
    '/v1/health',
    {
      schema: {
        summary: 'Health of every site (or one)',
        tags: ['health'],
        querystring: { type: 'object', additionalProperties: false, properties: { site: { type: 'string', maxLength: 63 } } },
        response: { 200: { type: 'object', required: ['sites'], properties: { sites: { type: 'array', items: siteHealth } } }, ...AUTH_ERRORS },
      },
    },
    async (req) => {
      const sites = req.query.site ? [health.get(req.query.site)].filter((s): s is SiteHealthState => s !== undefined) : health.list();
      return { sites: sites.map(healthView).sort((a, b) => compareCodeUnits(a.siteId, b.siteId)) };
    },
  );

  app.get<{ Querystring: { site?: string } }>(
    '/v1/health/events',
    {
      schema: {
        summary: 'Stream of site health changes (text/event-stream): `snapshot` first, then one `health` event per change',
        tags: ['health'],
        produces: ['text/event-stream'],
        querystring: { type: 'object', additionalProperties: false, properties: { site: { type: 'string', maxLength: 63 } } },
        // Documentation only: the handler writes the stream itself (hijacked), nothing is serialized.
        response: { 200: { type: 'string', description: 'event: snapshot|health, data: JSON; a comment line every keepalive interval' }, ...AUTH_ERRORS },
      },
    },
    async (req, reply) => {
      const only = req.query.site;
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      send('snapshot', {
        sites: health
          .list()
          .filter((s) => !only || s.siteId === only)
          .map(healthView),
      });
      const onEvent = (e: SiteHealthEvent) => {
        if (!only || e.siteId === only) send('health', { ...e, at: new Date(e.at).toISOString() });
      };
      health.on('event', onEvent);
      const keepalive = setInterval(() => res.write(': keepalive\n\n'), keepaliveMs);
      res.once('close', () => {
        clearInterval(keepalive);
        health.off('event', onEvent);
      });
    },
  );
};
