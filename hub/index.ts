// What tools outside the product (scripts/start, field-tests, bench) use of the hub: start one hub
// process with its config, talk to its API as the ops CLI does, and the pieces the benchmarks time
// on their own (the brokers, the health model, enrollment). No part of the product imports the hub.
export { startHub, type Hub } from './main.ts';
export { ConfigError, defaultConfig, parseHubArgs, type HubConfig } from './config.ts';
export { ApiUnreachable, request, type ApiResponse, type ApiTarget } from './cli/api-client.ts';
export { readManifests } from './cli/policy-ops.ts';
export {
  findMosquitto,
  findNatsServer,
  issueDerivedCredential,
  localClusterSpecs,
  startBroker,
  startMosquitto,
  startNats,
  type NatsBroker,
  type NatsNodeSpec,
} from './broker/index.ts';
export { createHealthModel, createSitesView, startHealthMonitor, type SiteRecord } from '../router/index.ts';
export { enroll } from './enroll/enroll.ts';
export { MemoryPeers, type Peers } from './enroll/peers.ts';
export { buildUi } from './ui/build.ts';
