// /v1/releases and /v1/updates: releases (the signed manifest, then the artifact's bytes), agent
// update rollouts staged like policy rollouts, pause/resume, and the fleet's versions.
import { createReadStream, statSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { SelectorError } from '../../../policy/index.ts';
import { HubError } from '../../errors.ts';
import { parseSelector } from '../../rollout/selector.ts';
import type { StageSpec } from '../../store/types.ts';
import { actorOf } from '../auth.ts';
import { anyArray, anyObject, errors, numericIdParam } from '../schemas.ts';
import type { HubServices } from '../services.ts';

const KIND = { type: 'string', enum: ['agent', 'rootfs'] } as const;
const releaseParams = { type: 'object', required: ['version', 'kind'], properties: { version: { type: 'string', maxLength: 32 }, kind: KIND } } as const;
type ReleaseParams = { version: string; kind: 'agent' | 'rootfs' };
/** Largest artifact the hub takes: a root filesystem image. */
const MAX_ARTIFACT_BYTES = 2 * 1024 ** 3;

export function updateRoutes(app: FastifyInstance, s: HubServices): void {
  const u = s.updates;
  // The artifact arrives as a stream, checked as it is written (not buffered whole in memory).
  app.addContentTypeParser('application/octet-stream', { bodyLimit: MAX_ARTIFACT_BYTES }, (_req, payload, done) => done(null, payload));

  app.post<{ Body: unknown }>(
    '/v1/releases',
    {
      config: { role: 'operator' },
      schema: {
        summary: 'Upload a signed release manifest (<file>.release.json from npm run build:release)',
        tags: ['release'],
        body: anyObject,
        response: { 201: anyObject, ...errors },
      },
    },
    async (req, reply) => reply.status(201).send(await u.upload(req.body, actorOf(req))),
  );

  app.put<{ Params: ReleaseParams; Body: NodeJS.ReadableStream }>(
    '/v1/releases/:version/:kind/artifact',
    {
      config: { role: 'operator' },
      bodyLimit: MAX_ARTIFACT_BYTES,
      schema: {
        summary: "Upload a release's artifact; kept only when it matches the manifest's size and sha256",
        tags: ['release'],
        params: releaseParams,
        response: { 200: anyObject, ...errors },
      },
    },
    async (req) => u.putArtifact(req.params.version, req.params.kind, req.body as unknown as import('node:stream').Readable),
  );

  // Public: sites fetch it with no API token; it is signed, and agents verify it before writing it anywhere.
  app.get<{ Params: ReleaseParams }>(
    '/v1/releases/:version/:kind/artifact',
    {
      config: { role: 'public' },
      schema: {
        summary: "A release's artifact, with HTTP Range (resumable downloads)",
        tags: ['release'],
        params: releaseParams,
        response: {
          200: { description: 'the whole artifact', content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
          206: { description: 'the artifact from the Range start', content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
          ...errors,
        },
      },
    },
    async (req, reply) => {
      const r = await u.release(req.params.version, req.params.kind);
      if (!r.complete) throw new HubError('RELEASE_INCOMPLETE', `release ${r.version}: its artifact was not uploaded yet`);
      const path = u.artifactPath(r);
      const size = statSync(path).size;
      const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      const from = m ? Number(m[1]) : 0;
      if (from > size) return reply.status(416).header('content-range', `bytes */${size}`).send();
      reply
        .header('accept-ranges', 'bytes')
        .header('content-type', 'application/octet-stream')
        .header('content-length', size - from);
      if (m) reply.status(206).header('content-range', `bytes ${from}-${size - 1}/${size}`);
      return reply.send(createReadStream(path, { start: from }));
    },
  );

  app.get('/v1/releases', { schema: { summary: 'Releases, newest first', tags: ['release'], response: { 200: anyArray, ...errors } } }, async () =>
    (await s.store.updates.releases()).map(({ signed: _s, ...r }) => r),
  );

  app.post<{ Body: { version: string; selector?: string; canary?: string[]; percents?: number[]; deadlineS?: number } }>(
    '/v1/updates',
    {
      config: { role: 'operator' },
      schema: {
        summary: 'Roll an agent release out in stages: canary sites, then percentages, then all; each stage gated on the sites blessing it',
        tags: ['release'],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['version'],
          properties: {
            version: { type: 'string', maxLength: 32 },
            selector: { type: 'string', maxLength: 1024, default: '' },
            canary: { type: 'array', items: { type: 'string', maxLength: 63 }, maxItems: 1000 },
            percents: { type: 'array', items: { type: 'number', exclusiveMinimum: 0, maximum: 100 }, maxItems: 20 },
            deadlineS: { type: 'integer', minimum: 10, maximum: 3600, default: 120 },
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
      const stages: StageSpec[] = [];
      if (req.body.canary?.length) stages.push({ name: 'canary', sites: req.body.canary });
      for (const p of req.body.percents ?? []) stages.push({ name: `${p}%`, percent: p });
      const r = await u.create({ version: req.body.version, selector, stages, deadlineS: req.body.deadlineS ?? 120 }, actorOf(req));
      return reply.status(201).send(await u.status(r.id));
    },
  );

  app.get('/v1/updates', { schema: { summary: 'Update rollouts, newest first', tags: ['release'], response: { 200: anyArray, ...errors } } }, async () =>
    s.store.updates.list(50),
  );

  app.get<{ Params: { id: number } }>(
    '/v1/updates/:id',
    { schema: { summary: 'Update rollout status by stage and site', tags: ['release'], params: numericIdParam, response: { 200: anyObject, ...errors } } },
    async (req) => u.status(req.params.id),
  );

  for (const [action, from, to] of [
    ['pause', 'running', 'paused'],
    ['resume', 'paused', 'running'],
  ] as const) {
    app.post<{ Params: { id: number } }>(
      `/v1/updates/:id/${action}`,
      {
        config: { role: 'operator' },
        schema: { summary: `${action} an update rollout`, tags: ['release'], params: numericIdParam, response: { 200: anyObject, ...errors } },
      },
      async (req) => u.setState(req.params.id, from, to, actorOf(req)),
    );
  }

  app.get(
    '/v1/fleet/versions',
    {
      schema: {
        summary: 'Which agent version each enrolled site runs, and how its last update ended',
        tags: ['release'],
        response: { 200: anyArray, ...errors },
      },
    },
    async () => s.store.updates.fleet(),
  );
}
