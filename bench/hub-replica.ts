// One hub replica of bench/hub-cluster.ts in its own process (so the bench can kill -9 it): a whole
// hub (startHub) on the shared PostgreSQL store running one node of the NATS cluster.
// Driven over IPC: {type:'start', ...} -> {type:'ready'}; the bench kills it with SIGKILL.
import { defaultConfig, MemoryPeers, startHub, type NatsNodeSpec } from '../hub/index.ts';

export interface ReplicaStart {
  type: 'start';
  dir: string;
  store: string;
  node: NatsNodeSpec;
  keyFile: string;
  siteUrls: string[];
}

process.on('message', (m: ReplicaStart) => {
  const c = defaultConfig(m.dir);
  Object.assign(c, { httpsPort: 0, httpsHost: '127.0.0.1', httpPort: null, logLevel: 'silent', store: m.store });
  c.mqtt = { broker: 'nats', hosts: ['127.0.0.1'], port: m.node.mqttPort, siteUrls: m.siteUrls };
  c.nats = { nodes: [m.node], keyFile: m.keyFile };
  c.wireguard.peers = new MemoryPeers();
  startHub(c).then(
    () => process.send?.({ type: 'ready' }),
    (err: unknown) => {
      process.stderr.write(`hub replica failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
});
