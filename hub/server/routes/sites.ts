// /v1/sites: create, list, show, enrollment tokens (with the provisioning file), drain, revoke. Each site
// carries its live health, and whether it enforces in the kernel, from the health model.
import type { FastifyInstance } from 'fastify';
import { actorOf } from '../auth.ts';
import { anyArray, anyObject, errors, idParam, labels } from '../schemas.ts';
import type { HubServices } from '../services.ts';
import type { SiteRecord, SiteRolloutSummary, SiteSpec } from '../../store/types.ts';
import { timeline } from '../../sites/timeline.ts';

const service = {
  type: 'object',
  required: ['name', 'addresses'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$' },
    addresses: { type: 'array', items: { type: 'string', maxLength: 45 }, maxItems: 16 },
    url: { type: 'string', maxLength: 2048 },
  },
} as const;

const siteBody = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 63 },
    labels,
    lat: { type: 'number', default: 0 },
    lon: { type: 'number', default: 0 },
    clientCidrs: { type: 'array', items: { type: 'string', maxLength: 49 }, maxItems: 256, default: [] },
    capacity: { type: 'integer', minimum: 0, default: 100 },
    services: { type: 'array', items: service, maxItems: 64, default: [] },
  },
} as const;

/** The file a technician drops next to the appliance image (weft-provision.json). */
export interface ProvisioningFile {
  v: 1;
  hubUrl: string;
  /** sha256 of the hub CA certificate DER, hex: the agent pins it. */
  caFingerprint: string;
  siteName: string;
  token: string;
  expiresAt: string;
}

export function siteRoutes(app: FastifyInstance, s: HubServices): void {
  /** Null: no health model, or nothing heard from the site yet. */
  const liveHealth = (id: string) => {
    const h = s.health?.get(id);
    return h
      ? {
          health: h.health,
          kernelEnforcing: h.kernelEnforcing,
          notEnforcing: h.notEnforcing,
          reason: h.lastReason,
          appliedGeneration: h.appliedGeneration,
          lastHeartbeatAt: h.lastHeartbeatAt === null ? null : new Date(h.lastHeartbeatAt).toISOString(),
          tunnelHandshakeAgeS: h.tunnelHandshakeAgeS,
          agentVersion: h.agentVersion,
        }
      : null;
  };
  /** One site as the API shows it; `summary` given when listing many (read in three queries for all). */
  const view = async (site: SiteRecord, summary?: SiteRolloutSummary) => {
    const addr = site.overlayIndex !== null ? s.overlay.addresses(site.overlayIndex) : null;
    return {
      ...site,
      overlayAddresses: addr ? [addr.v4, addr.v6] : [],
      generation: summary ? summary.generation : await s.store.rollouts.generation(site.id),
      policyVersion: summary ? summary.policyVersion : ((await s.store.rollouts.latestBundle(site.id))?.policyVersion ?? null),
      lastAck: summary ? summary.lastAck : ((await s.store.rollouts.acks(site.id, 1))[0] ?? null),
      health: liveHealth(site.id),
    };
  };
  const NONE: SiteRolloutSummary = { generation: 0, policyVersion: null, lastAck: null };

  app.post<{ Body: SiteSpec }>(
    '/v1/sites',
    {
      config: { role: 'admin' },
      schema: { summary: 'Create a site', tags: ['sites'], body: siteBody, response: { 201: anyObject, ...errors } },
    },
    async (req, reply) => reply.status(201).send(await view(await s.sites.create({ ...req.body, labels: req.body.labels ?? {} }, actorOf(req)))),
  );

  /** What the dashboard's fleet table and map read of a site, and nothing else (a tenth of the full entry). */
  const fleetView = (site: SiteRecord, summary: SiteRolloutSummary) => {
    const h = s.health?.get(site.id);
    return {
      id: site.id,
      name: site.name,
      state: site.state,
      drained: site.drained,
      labels: site.labels,
      lat: site.lat,
      lon: site.lon,
      policyVersion: summary.policyVersion,
      lastAck: summary.lastAck && { generation: summary.lastAck.generation, result: summary.lastAck.result, receivedAt: summary.lastAck.receivedAt },
      health: h
        ? {
            health: h.health,
            kernelEnforcing: h.kernelEnforcing,
            appliedGeneration: h.appliedGeneration,
            tunnelHandshakeAgeS: h.tunnelHandshakeAgeS,
            agentVersion: h.agentVersion,
          }
        : null,
    };
  };

  app.get<{ Querystring: { all?: boolean; view?: 'full' | 'fleet'; offset: number; limit?: number } }>(
    '/v1/sites',
    {
      schema: {
        summary:
          'List sites by id (revoked ones with ?all=true); view=fleet gives only what a fleet overview needs (id, name, state, drained, labels, ' +
          'lat, lon, policyVersion, lastAck {generation, result, receivedAt}, health {health, kernelEnforcing, appliedGeneration, ' +
          'tunnelHandshakeAgeS, agentVersion}); offset and limit page the list',
        tags: ['sites'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            all: { type: 'boolean' },
            view: { type: 'string', enum: ['full', 'fleet'], default: 'full' },
            offset: { type: 'integer', minimum: 0, default: 0 },
            limit: { type: 'integer', minimum: 1, maximum: 100_000 },
          },
        },
        response: { 200: anyArray, ...errors },
      },
    },
    async (req) => {
      const { offset, limit } = req.query;
      const summaries = await s.store.rollouts.siteSummaries();
      const sites = (req.query.all ? await s.sites.all() : await s.sites.list()).slice(offset, limit === undefined ? undefined : offset + limit);
      return req.query.view === 'fleet'
        ? sites.map((site) => fleetView(site, summaries.get(site.id) ?? NONE))
        : Promise.all(sites.map((site) => view(site, summaries.get(site.id) ?? NONE)));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/sites/:id',
    {
      schema: { summary: 'Show a site', tags: ['sites'], params: idParam, response: { 200: anyObject, ...errors } },
    },
    async (req) => ({ ...(await view(await s.sites.require(req.params.id))), acks: await s.store.rollouts.acks(req.params.id, 20) }),
  );

  app.get<{ Params: { id: string } }>(
    '/v1/sites/:id/timeline',
    {
      schema: {
        summary:
          "A site's timeline, newest first: audit entries (enroll, drain, revoke), acks and rejections, health changes (stored: the same on every replica)",
        tags: ['sites'],
        params: idParam,
        response: { 200: anyArray, ...errors },
      },
    },
    async (req) => {
      const site = await s.sites.require(req.params.id);
      return timeline(
        await s.store.audit.list({ target: `site/${site.id}`, limit: 200 }),
        await s.store.rollouts.acks(site.id, 200),
        await s.store.health.list(site.id, 200),
      );
    },
  );

  app.post<{ Params: { id: string }; Body: { ttlS?: number } }>(
    '/v1/sites/:id/token',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'Issue a one-time enrollment token (and the provisioning file holding it)',
        tags: ['sites'],
        params: idParam,
        body: { type: 'object', additionalProperties: false, properties: { ttlS: { type: 'integer', minimum: 60, maximum: 30 * 86400 } } },
        response: { 201: anyObject, ...errors },
      },
    },
    async (req, reply) => {
      const { token, expiresAt } = await s.sites.issueToken(req.params.id, actorOf(req), req.body?.ttlS !== undefined ? req.body.ttlS * 1000 : undefined);
      const provisioning: ProvisioningFile = {
        v: 1,
        hubUrl: s.publicUrl,
        caFingerprint: s.ca.fingerprint,
        siteName: req.params.id,
        token,
        expiresAt: new Date(expiresAt).toISOString(),
      };
      return reply.status(201).send({ token, expiresAt: provisioning.expiresAt, provisioning });
    },
  );

  for (const [path, drained] of [
    ['drain', true],
    ['undrain', false],
  ] as const) {
    app.post<{ Params: { id: string } }>(
      `/v1/sites/:id/${path}`,
      {
        config: { role: 'operator' },
        schema: {
          summary: `${drained ? 'Drain' : 'Undrain'} a site (routing sends users elsewhere while drained)`,
          tags: ['sites'],
          params: idParam,
          response: { 200: anyObject, ...errors },
        },
      },
      async (req) => view(await s.sites.setDrained(req.params.id, drained, actorOf(req))),
    );
  }

  app.post<{ Params: { id: string } }>(
    '/v1/sites/:id/revoke',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'Revoke a site: broker session closed and refused, tunnel peer removed, out of routing',
        tags: ['sites'],
        params: idParam,
        response: { 200: anyObject, ...errors },
      },
    },
    async (req) => view(await s.sites.revoke(req.params.id, actorOf(req))),
  );
}
