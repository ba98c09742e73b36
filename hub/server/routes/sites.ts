// /v1/sites: create, list, show, enrollment tokens (with the provisioning file), drain, revoke. Each site
// carries its live health, and whether it enforces in the kernel, from the health model.
import type { FastifyInstance } from 'fastify';
import { actorOf } from '../auth.ts';
import { anyArray, anyObject, errors, idParam, labels } from '../schemas.ts';
import type { HubServices } from '../services.ts';
import type { SiteNodeRecord, SiteRecord, SiteRolloutSummary, SiteSpec } from '../../store/types.ts';
import { DEFAULT_NODE_DOWN_GRACE_MS } from '../../rollout/node-gate.ts';
import { timeline } from '../../sites/timeline.ts';

const service = {
  type: 'object',
  required: ['name', 'addresses'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$' },
    addresses: { type: 'array', items: { type: 'string', maxLength: 45 }, maxItems: 16 },
    url: { type: 'string', maxLength: 2048 },
    nodeAddresses: {
      type: 'object',
      maxProperties: 256,
      additionalProperties: { type: 'array', items: { type: 'string', maxLength: 45 }, maxItems: 16 },
    },
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
  /** A node token: each node's agent enrolls with its own k3s node name. */
  node?: boolean;
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
  const graceMs = s.nodeDownGraceMs ?? DEFAULT_NODE_DOWN_GRACE_MS;
  /** A node as the API shows it: its record, and its health as this hub last heard it. */
  const nodeView = (n: SiteNodeRecord) => {
    const h = s.health?.node(n.siteId, n.name);
    const addr = s.overlay.addresses(n.overlayIndex);
    const down = !h || h.health === 'offline';
    const at = s.now();
    return {
      name: n.name,
      state: n.state,
      health: n.state === 'revoked' ? 'revoked' : (h?.health ?? 'offline'),
      since: h ? new Date(h.since).toISOString() : null,
      reason: h?.lastReason ?? 'not heard yet',
      appliedGeneration: n.appliedGeneration ?? h?.appliedGeneration ?? null,
      tunnelHandshakeAgeS: h?.tunnelHandshakeAgeS ?? null,
      agentVersion: h?.agentVersion ?? n.agentVersion,
      lastHeartbeatAt: h?.lastHeartbeatAt ? new Date(h.lastHeartbeatAt).toISOString() : null,
      serves: h?.serves ?? null,
      overlayAddresses: n.state === 'enrolled' ? [addr.v4, addr.v6] : [],
      enrolledAt: new Date(n.enrolledAt).toISOString(),
      revokedAt: n.revokedAt === null ? null : new Date(n.revokedAt).toISOString(),
      // A node down for longer than the grace no longer holds rollout stages (hub/rollout/node-gate.ts).
      leftOutOfRollouts: n.state === 'enrolled' && down && at - (h ? h.since : n.enrolledAt) >= graceMs,
    };
  };
  /** One site as the API shows it; `summary` given when listing many (read in three queries for all). */
  const view = async (site: SiteRecord, summary?: SiteRolloutSummary) => {
    const addr = site.overlayIndex !== null ? s.overlay.addresses(site.overlayIndex) : null;
    const nodes = await s.sites.nodes(site.id);
    return {
      ...site,
      nodes: nodes.map(nodeView),
      ...(nodes.length ? { nodeDownGraceS: Math.round(graceMs / 1000) } : {}),
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

  app.post<{ Params: { id: string }; Body: { ttlS?: number; nodes?: number } }>(
    '/v1/sites/:id/token',
    {
      config: { role: 'admin' },
      schema: {
        summary:
          "Issue an enrollment token (and the provisioning file holding it): one-time for the site's one device, or with nodes: N a node token good for N nodes of a multi-node site",
        tags: ['sites'],
        params: idParam,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { ttlS: { type: 'integer', minimum: 60, maximum: 30 * 86400 }, nodes: { type: 'integer', minimum: 1, maximum: 1000 } },
        },
        response: { 201: anyObject, ...errors },
      },
    },
    async (req, reply) => {
      const { token, expiresAt } = await s.sites.issueToken(
        req.params.id,
        actorOf(req),
        req.body?.ttlS !== undefined ? req.body.ttlS * 1000 : undefined,
        req.body?.nodes,
      );
      const provisioning: ProvisioningFile = {
        v: 1,
        hubUrl: s.publicUrl,
        caFingerprint: s.ca.fingerprint,
        siteName: req.params.id,
        ...(req.body?.nodes ? { node: true } : {}),
        token,
        expiresAt: new Date(expiresAt).toISOString(),
      };
      return reply.status(201).send({ token, expiresAt: provisioning.expiresAt, provisioning, ...(req.body?.nodes ? { nodes: req.body.nodes } : {}) });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/sites/:id/nodes',
    {
      schema: {
        summary: "A site's nodes: state, health, applied generation, tunnel, agent version, and whether a down node is left out of rollouts",
        tags: ['sites'],
        params: idParam,
        response: { 200: anyArray, ...errors },
      },
    },
    async (req) => {
      await s.sites.require(req.params.id);
      return (await s.sites.nodes(req.params.id)).map(nodeView);
    },
  );

  app.post<{ Params: { id: string; node: string } }>(
    '/v1/sites/:id/nodes/:node/revoke',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'Revoke one node of a site: its broker session is closed and refused, its tunnel peer removed; the other nodes stay',
        tags: ['sites'],
        params: {
          type: 'object',
          required: ['id', 'node'],
          properties: { id: idParam.properties.id, node: { type: 'string', pattern: '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$' } },
        },
        response: { 200: anyObject, ...errors },
      },
    },
    async (req) => nodeView(await s.sites.revokeNode(req.params.id, req.params.node, actorOf(req))),
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
