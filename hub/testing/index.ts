// What the hub offers tests outside it (images/, field-tests/, bench/): a whole hub in a temporary
// folder, simulated agents that enroll and speak MQTT with real credentials, and raw MQTT, HTTPS and
// DNS clients for abuse tests; Debian's chromium for the dashboard.
export { startTestHub, type TestHub } from './hub-fixture.ts';
export { deviceKeys, enrollRequest, eventually, SimAgent, type DeviceKeys, type SimAgentOptions } from './sim-agent.ts';
export { enrollSite, fleet } from './fleet.ts';
export { dnsProber, httpsRequest, mqttConnect, mqttLength, mqttPublish, mqttSubscribe, openTcp, readBytes } from './abuse-clients.ts';
export { openBrowser, type Browser } from '../ui/testing/browser.ts';
export { postgresBin, startPostgres, type StartPostgresOptions, type TestPostgres } from '../store/testing/postgres.ts';
