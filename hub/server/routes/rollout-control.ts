// /v1/rollouts/:id/pause, /resume (operator) and /events: the live progress of one rollout as
// server-sent events, pushed when the engine announces a change (an ack, a stage, a pause), at most
// every `coalesceMs`, and re-read from the store every `pollMs` so that changes made by another hub
// replica's engine arrive too.
import type { FastifyInstance } from 'fastify';
import { progressDelta, type SentRows } from '../../rollout/progress.ts';
import type { RolloutRecord } from '../../store/types.ts';
import { actorOf } from '../auth.ts';
import { anyObject, errors, numericIdParam } from '../schemas.ts';
import type { HubServices } from '../services.ts';

export interface ProgressStreamOptions {
  coalesceMs: number;
  pollMs: number;
  keepaliveMs: number;
}

const DEFAULTS: ProgressStreamOptions = { coalesceMs: 50, pollMs: 2000, keepaliveMs: 15_000 };

export function rolloutControlRoutes(app: FastifyInstance, s: HubServices, o: ProgressStreamOptions = DEFAULTS): void {
  for (const [path, verb] of [
    ['pause', 'Pause'],
    ['resume', 'Resume'],
  ] as const) {
    app.post<{ Params: { id: number } }>(
      `/v1/rollouts/:id/${path}`,
      {
        config: { role: 'operator' },
        schema: {
          summary:
            verb === 'Pause'
              ? 'Pause a running rollout: nothing more is published and no stage passes (acks are still recorded)'
              : 'Resume a paused rollout where it stopped',
          tags: ['rollout'],
          params: numericIdParam,
          response: { 200: anyObject, ...errors },
        },
      },
      async (req) => {
        const actor = actorOf(req);
        await (path === 'pause' ? s.rollouts.pause(req.params.id, actor) : s.rollouts.unpause(req.params.id, actor));
        return s.rollouts.status(req.params.id);
      },
    );
  }

  app.get<{ Params: { id: number } }>(
    '/v1/rollouts/:id/events',
    {
      schema: {
        summary: 'Live progress of a rollout (text/event-stream): `progress` events with per-stage counts and the site rows that changed (all in the first)',
        tags: ['rollout'],
        produces: ['text/event-stream'],
        params: numericIdParam,
        response: {
          200: { type: 'string', description: 'event: progress, data: {rollout, stages, sites}; a comment line every keepalive interval' },
          ...errors,
        },
      },
    },
    async (req, reply) => {
      const id = req.params.id;
      await s.rollouts.status(id); // 404 before the stream starts
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      const sent: SentRows = new Map();
      let last: RolloutRecord | null = null;
      let timer: NodeJS.Timeout | null = null;
      const push = async () => {
        timer = null;
        try {
          const msg = progressDelta(await s.rollouts.status(id), sent, last);
          if (!msg) return;
          last = msg.rollout;
          res.write(`event: progress\ndata: ${JSON.stringify(msg)}\n\n`);
        } catch (err) {
          req.log.warn({ rollout: id, err: (err as Error).message }, 'rollout progress stream failed');
          res.end();
        }
      };
      const onChange = (changed: number) => {
        if (changed === id && !timer) timer = setTimeout(() => void push(), o.coalesceMs);
      };
      await push();
      s.rollouts.changes.on('change', onChange);
      const poll = setInterval(() => void push(), o.pollMs);
      const keepalive = setInterval(() => res.write(': keepalive\n\n'), o.keepaliveMs);
      res.once('close', () => {
        s.rollouts.changes.off('change', onChange);
        clearInterval(poll);
        clearInterval(keepalive);
        if (timer) clearTimeout(timer);
      });
    },
  );
}
