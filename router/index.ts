// The router: sends end users to the nearest healthy site by DNS and HTTP redirect. See docs/router.md.
export { startRouter, type Router, type Redirect } from './router.ts';
export { routerRoutes } from './http-routes.ts';
export { UDP_BUFFER_BYTES } from './dns-server.ts';
export { RouterConfigError, type RouterOptions, type RouterSettings, type RouterConfig, type NameserverOption } from './config.ts';
export { loadRouterSettings, parseRouterSettings } from './config-file.ts';
export type { CidrRoute, ClientLocation, LocateMethod } from './locate.ts';
export type { RouteExplanation } from './explain.ts';
export type { NoHealthySite, Decision } from './rank.ts';
export type { RoutableSite, SiteHealth, SiteHealthEvent, SiteService, SitesView } from './sites-view.ts';
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
  type SiteHealthState,
  type SiteRecord,
  type SitesViewOptions,
} from './health/index.ts';
