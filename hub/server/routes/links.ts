// /v1/links: site links declared by ops (a pair of sites, or a label selector), and the resolved pairs
// with the path each side reports (direct, relayed, down) and its handshake age.
import type { FastifyInstance } from 'fastify';
import type { LinkSpec } from '../../store/types.ts';
import { actorOf } from '../auth.ts';
import { anyObject, errors, labels, numericIdParam } from '../schemas.ts';
import type { HubServices } from '../services.ts';

const siteId = { type: 'string', minLength: 1, maxLength: 63 } as const;
const linkBody = {
  oneOf: [
    { type: 'object', required: ['a', 'b'], additionalProperties: false, properties: { a: siteId, b: siteId } },
    {
      type: 'object',
      required: ['from', 'to'],
      additionalProperties: false,
      properties: { from: labels, to: labels, same: { type: 'array', items: { type: 'string', maxLength: 317 }, maxItems: 8 } },
    },
  ],
} as const;

type LinkBody = { a: string; b: string } | { from: Record<string, string>; to: Record<string, string>; same?: string[] };

export function linkRoutes(app: FastifyInstance, s: HubServices): void {
  const mesh = s.mesh;
  if (!mesh) return;
  app.post<{ Body: LinkBody }>(
    '/v1/links',
    {
      config: { role: 'operator' },
      schema: {
        summary: 'Declare a site link: {a, b} (two sites) or {from, to, same} (label selectors; `same` label keys must agree, e.g. region)',
        tags: ['mesh'],
        body: linkBody,
        response: { 201: anyObject, ...errors },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const spec: LinkSpec = 'a' in b ? { kind: 'pair', a: b.a, b: b.b } : { kind: 'selector', from: b.from, to: b.to, same: b.same ?? [] };
      return reply.status(201).send(await mesh.links.add(spec, actorOf(req)));
    },
  );

  app.get(
    '/v1/links',
    {
      schema: {
        summary: 'Declared links and the site pairs they give, each direction with its reported path (direct, relayed, down, unknown) and handshake age',
        tags: ['mesh'],
        response: { 200: anyObject, ...errors },
      },
    },
    async () => ({ links: await mesh.links.list(), pairs: mesh.view() }),
  );

  app.delete<{ Params: { id: number } }>(
    '/v1/links/:id',
    {
      config: { role: 'operator' },
      schema: {
        summary: 'Remove a declared link (its pairs lose their peers unless another link declares them)',
        tags: ['mesh'],
        params: numericIdParam,
        response: { 204: { type: 'null' }, ...errors },
      },
    },
    async (req, reply) => {
      await mesh.links.remove(req.params.id, actorOf(req));
      return reply.status(204).send();
    },
  );
}
