// The hub's HTTP API: fastify with JSON schemas on every route, OpenAPI at /docs, one error shape,
// bearer tokens with roles. One app serves the HTTPS listener and the loopback plain-HTTP listener.
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { registerAuth } from './auth.ts';
import { registerErrors } from './error-handler.ts';
import { registerPublicLimits, PUBLIC_LIMITS, type PublicLimits } from './public-limits.ts';
import { errorBody } from './schemas.ts';
import type { HubServices } from './services.ts';
import { adminRoutes } from './routes/admin.ts';
import { enrollRoutes } from './routes/enroll.ts';
import { flowRoutes } from './routes/flows.ts';
import { linkRoutes } from './routes/links.ts';
import { policyRoutes } from './routes/policies.ts';
import { rolloutControlRoutes } from './routes/rollout-control.ts';
import { rolloutRoutes } from './routes/rollouts.ts';
import { updateRoutes } from './routes/updates.ts';
import { sessionRoutes } from './routes/session.ts';
import { siteRoutes } from './routes/sites.ts';
import { whatIfRoutes } from './routes/what-if.ts';
import { uiRoutes } from '../ui/serve.ts';

export interface AppOptions {
  /** Largest request body in bytes; larger ones get 413. */
  bodyLimit: number;
  /** Body and rate limits of the routes anyone may call (default PUBLIC_LIMITS). */
  publicLimits?: PublicLimits;
  serverFactory?: FastifyServerOptions['serverFactory'];
  /** Plugins of other parts (health, router), registered inside the same app before it is ready. */
  plugins?: ((app: FastifyInstance) => Promise<void>)[];
}

export async function buildApp(s: HubServices, o: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: s.log as FastifyBaseLogger,
    bodyLimit: o.bodyLimit,
    serverFactory: o.serverFactory,
    // Unknown fields are errors, not silently dropped.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: true } },
  });
  app.addSchema(errorBody);
  registerErrors(app);
  registerPublicLimits(app, o.publicLimits ?? PUBLIC_LIMITS);
  registerAuth(app, s.store, s.now);
  await app.register(swagger, {
    openapi: {
      info: { title: 'Weft hub API', version: '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  siteRoutes(app, s);
  enrollRoutes(app, s);
  whatIfRoutes(app, s);
  policyRoutes(app, s);
  rolloutRoutes(app, s);
  updateRoutes(app, s);
  rolloutControlRoutes(app, s);
  flowRoutes(app, s);
  linkRoutes(app, s);
  adminRoutes(app, s);
  sessionRoutes(app, s);
  uiRoutes(app);
  for (const p of o.plugins ?? []) await p(app);
  return app;
}
