// Site health as the router keeps it, rebuilt from the broker by every hub replica and every standalone
// router. Wiring (hub/main.ts and router/main.ts do the same):
//   const health = createHealthModel({ heartbeatIntervalMs });
//   const view = createSitesView({ listSites, health, now }); // the router's input
//   const monitor = await startHealthMonitor({ client, health, sessions, knownSite, registry, logger, now });
export * from './types.ts';
export { createHealthModel } from './model.ts';
export { stepHealth, initialHealthState, heartbeatProblem, kernelEnforcingOf } from './state-machine.ts';
export { createSitesView } from './sites-view.ts';
export { startHealthMonitor, type HealthMonitor, type HealthMonitorOptions } from './monitor.ts';
