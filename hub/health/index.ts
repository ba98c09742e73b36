// The hub's health routes. The model, its MQTT monitor and the SitesView are the router's (router/health/,
// one copy for every hub replica and standalone router): import them from router/index.ts. Wiring in the hub:
//   const health = createHealthModel({ heartbeatIntervalMs });
//   const view = createSitesView({ listSites: () => siteRecords, health, now }); // the router's input (a copy of the store's sites, main.ts)
//   const monitor = await startHealthMonitor({
//     client: await broker.hubClient(), health, sessions: broker.sessions,
//     knownSite: (id) => known.get(id)?.state === 'enrolled', registry, logger, now,
//   });
//   app.register(healthRoutes, { health });   // GET /v1/health, GET /v1/health/events (SSE)
export { healthRoutes, healthView, type HealthRoutesOptions } from './routes.ts';
