// The hub's MQTT broker. startBroker() is the embedded aedes default; startMosquitto() supervises
// an external Mosquitto fed from the same store (password + ACL files, reload on SIGHUP).
export * from './types.ts';
export { startBroker, clientIdBelongsTo } from './aedes-broker.ts';
export { hashPassword, verifyPassword, randomSecret } from './password.ts';
export { startMosquitto, findMosquitto } from './mosquitto.ts';
