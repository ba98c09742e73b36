// A simulated site for bench/router.ts, run as its own process so it can be killed with -9:
// it holds an MQTT session with the hub broker (last will: offline), sends heartbeats, and listens
// on its service port (what PowerDNS's ifportup checks). Prints "ready" once both are up.
// usage: site-process.ts <siteId> <password> <brokerUrl> <serviceHost> <servicePort> <keepaliveS> <heartbeatMs>
import { createServer } from 'node:net';
import mqtt from 'mqtt';
import { encode, topics } from '../../protocol/index.ts';

// The benchmark holds our stdin: when it goes away, so do we (no orphans after a failed run).
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();

const [siteId, password, brokerUrl, host, port, keepalive, heartbeatMs] = process.argv.slice(2);
const server = createServer((s) => s.on('error', () => s.destroy()).end());
server.listen(Number(port), host);

const client = mqtt.connect(brokerUrl, {
  clientId: siteId,
  username: siteId,
  password,
  keepalive: Number(keepalive),
  reconnectPeriod: 0,
  will: { topic: topics.status(siteId), payload: encode('status', { v: 1, state: 'offline' }), qos: 1, retain: true },
});

const heartbeat = () =>
  client.publish(
    topics.heartbeat(siteId),
    encode('heartbeat', {
      v: 1,
      at: new Date().toISOString(),
      nodeReady: true,
      enforcing: true,
      appliedGeneration: 1,
      checks: [{ name: 'pos', ok: true }],
      load: 0.2,
      link: { reconnects: 0, outboxDepth: 0, outboxLost: 0 },
    }),
    { qos: 0 },
  );

client.on('connect', () => {
  client.publish(topics.status(siteId), encode('status', { v: 1, state: 'online' }), { qos: 1, retain: true }, () => {
    heartbeat();
    setInterval(heartbeat, Number(heartbeatMs));
    if (server.listening) process.stdout.write('ready\n');
    else server.once('listening', () => process.stdout.write('ready\n'));
  });
});
client.on('error', (err) => {
  process.stderr.write(`site ${siteId}: ${err.message}\n`);
  process.exit(1);
});
