// The hub's MQTT broker. startBroker() is the embedded aedes default; startMosquitto() supervises
// an external Mosquitto fed from the same store (password + ACL files, reload on SIGHUP); startNats()
// supervises nodes of a NATS cluster (JetStream + MQTT) fed from the same store and grants.
export * from './types.ts';
export { startBroker, clientIdBelongsTo } from './aedes-broker.ts';
export { hashPassword, verifyPassword, randomSecret } from './password.ts';
export { startMosquitto, findMosquitto } from './mosquitto.ts';
export {
  startNats,
  findNatsServer,
  localClusterSpecs,
  loadOrCreateBrokerKey,
  AUTHZ_TOPIC,
  type NatsBroker,
  type NatsNodeSpec,
  type NatsStartOptions,
} from './nats.ts';
export { issueDerivedCredential, recoverSitePassword, servicePassword } from './nats-credentials.ts';
export { siteGrants, routerGrants, type Grants } from './site-grants.ts';
