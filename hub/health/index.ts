// The hub's health: the model, its MQTT monitor and the SitesView are the router's (router/health/, one
// copy for every hub replica and standalone router); the hub adds its HTTP routes. Wiring in the hub:
//   const health = createHealthModel({ heartbeatIntervalMs });
//   const view = createSitesView({ listSites: () => siteRecords, health, now }); // the router's input (a copy of the store's sites, main.ts)
//   const monitor = await startHealthMonitor({
//     client: await broker.hubClient(), health, sessions: broker.sessions,
//     knownSite: (id) => known.get(id)?.state === 'enrolled', registry, logger, now,
//   });
//   app.register(healthRoutes, { health });   // GET /v1/health, GET /v1/health/events (SSE)
export {
  createHealthModel,
  createSitesView,
  startHealthMonitor,
  stepHealth,
  initialHealthState,
  heartbeatProblem,
  kernelEnforcingOf,
  DEFAULT_HEALTH_CONFIG,
  type HealthConfig,
  type HealthInput,
  type HealthModel,
  type HealthStep,
  type HealthMonitor,
  type HealthMonitorOptions,
  type RecordSitesView,
  type SiteHealth,
  type SiteHealthEvent,
  type SiteHealthState,
  type SiteRecord,
  type SitesViewOptions,
} from '../../router/index.ts';
export { healthRoutes, healthView, type HealthRoutesOptions } from './routes.ts';
