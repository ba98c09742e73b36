// /v1/flows and /v1/counters: telemetry queries by site, policy, verdict and time; /v1/flows/events
// follows new verdict events as server-sent events. The follower re-reads the store for events stored
// after the last one it sent every `pollMs` (one indexed query), so events ingested by any hub replica
// sharing the store arrive too, and a slow client never holds more than one batch.
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

export interface FlowStreamOptions {
  pollMs: number;
  keepaliveMs: number;
  /** At most this many events per message; the rest follow at the next poll. */
  batch: number;
}

const DEFAULTS: FlowStreamOptions = { pollMs: 250, keepaliveMs: 15_000, batch: 500 };

const followQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    site: query.properties.site,
    policy: query.properties.policy,
    verdict: query.properties.verdict,
    after: { type: 'integer', minimum: 0, description: "Send events stored after this id (a flow row's `id`); default: only events stored from now on" },
  },
} as const;

export function flowRoutes(app: FastifyInstance, s: HubServices, o: FlowStreamOptions = DEFAULTS): void {
  app.get<{ Querystring: Q }>(
    '/v1/flows',
    {
      schema: { summary: 'Verdict events, newest first', tags: ['telemetry'], querystring: query, response: { 200: anyArray, ...errors } },
    },
    async (req) => s.store.telemetry.flows({ ...filter(req.query), limit: req.query.limit }),
  );

  app.get<{ Querystring: Omit<Q, 'since' | 'until' | 'limit'> & { after?: number } }>(
    '/v1/flows/events',
    {
      schema: {
        summary: 'Follow verdict events as they are stored (text/event-stream): `flows` events, each a batch of flow rows oldest first',
        tags: ['telemetry'],
        produces: ['text/event-stream'],
        querystring: followQuery,
        response: {
          200: { type: 'string', description: 'event: flows, data: [flow rows with their id, oldest first]; a comment line every keepalive interval' },
          ...errors,
        },
      },
    },
    async (req, reply) => {
      const f = { siteId: req.query.site, policy: req.query.policy, verdict: req.query.verdict };
      let after = req.query.after ?? (await s.store.telemetry.lastFlowId());
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      res.write(': following\n\n');
      // One read at a time: a slow store must not stack reads of the same rows.
      let reading = false;
      const push = async () => {
        if (reading) return;
        reading = true;
        try {
          const rows = await s.store.telemetry.flows({ ...f, afterId: after, limit: o.batch });
          if (!rows.length) return;
          after = rows[rows.length - 1].id;
          res.write(`event: flows\ndata: ${JSON.stringify(rows)}\n\n`);
        } catch (err) {
          req.log.warn({ err: (err as Error).message }, 'flow stream failed');
          res.end();
        } finally {
          reading = false;
        }
      };
      await push();
      const poll = setInterval(() => void push(), o.pollMs);
      const keepalive = setInterval(() => res.write(': keepalive\n\n'), o.keepaliveMs);
      res.once('close', () => {
        clearInterval(poll);
        clearInterval(keepalive);
      });
    },
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
