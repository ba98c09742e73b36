// The hub's health model. Wiring in the hub:
//   const health = createHealthModel({ heartbeatIntervalMs });
//   const view = createSitesView({ listSites: () => siteRecords, health, now }); // the router's input (a copy of the store's sites, main.ts)
//   const monitor = await startHealthMonitor({
//     client: await broker.hubClient(), health, sessions: broker.sessions,
//     knownSite: (id) => known.get(id)?.state === 'enrolled', registry, logger, now,
//   });
//   app.register(healthRoutes, { health });   // GET /v1/health, GET /v1/health/events (SSE)
export * from './types.ts';
export { createHealthModel } from './model.ts';
export { stepHealth, initialHealthState, heartbeatProblem, kernelEnforcingOf } from './state-machine.ts';
export { createSitesView } from './sites-view.ts';
export { startHealthMonitor, type HealthMonitor, type HealthMonitorOptions } from './monitor.ts';
export { healthRoutes, healthView, type HealthRoutesOptions } from './routes.ts';
