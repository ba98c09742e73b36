// The hub as the field tests (and the demo) run it inside the hub namespace: the real hub
// (hub/main.ts startHub) with its own WireGuard interface (config.wireguard.ifname: tunnel/
// HubTunnel on wireguard-go or the kernel), its broker on loopback and the overlay address only,
// so sites reach it through their tunnel and nothing else.
//
//   node bin/run.mjs field-tests/lib/hub-main.ts --data-dir D --wg-ifname I --wan-ip A --api-socket S [--zone Z]
//     [--store postgres://... --node-name N --node-index K]   (one node of several hub replicas)
//     [--nameserver name=ip ...]                              (the zone's NS set: every node's router)
//     [--nats-key-file F --nats-route ip:6222 ...]            (the broker: a NATS node per hub node, clustered)
//
// The test process lives outside the namespace, so the hub's loopback HTTP API is forwarded to
// the unix socket S (unix sockets are not namespaced). Control requests for what is not in the API
// (tunnel peers, broker sessions, raw publishes for forgery tests, the order site events arrived
// in) come as JSON lines on stdin and are answered on stdout as `CTL {...}` lines.
import { mkdirSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { defaultConfig, startHub } from '../../hub/index.ts';
import { OverlayPlan } from '../../tunnel/index.ts';
import { addressPlan } from './addressing.ts';

export interface HubReady {
  url: string;
  httpPort: number;
  caFingerprint: string;
  adminTokenFile: string;
  mqttPort: number;
  wgPublicKey: string;
  dns: { host: string; port: number } | null;
  /** This hub node's name, when it is one of several. */
  node: string | null;
  /** The hub's own pid (the rollout lease names its holder host:pid). */
  pid: number;
}

/** A control request (stdin) and its answer (stdout, prefixed `CTL `). */
export type ControlRequest =
  | { id: number; op: 'peers' }
  | { id: number; op: 'connected' }
  | { id: number; op: 'publish'; topic: string; payloadBase64: string; retain: boolean }
  | { id: number; op: 'observed'; siteId: string };
export interface ControlAnswer {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

/** Heartbeats every second: failover is measured in seconds, not tens of them. */
const HEARTBEAT_S = 1;

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      'data-dir': { type: 'string' },
      'wg-ifname': { type: 'string' },
      'wan-ip': { type: 'string' },
      'api-socket': { type: 'string' },
      zone: { type: 'string' },
      store: { type: 'string' },
      'node-name': { type: 'string' },
      'node-index': { type: 'string' },
      nameserver: { type: 'string', multiple: true },
      'nats-route': { type: 'string', multiple: true },
      'nats-key-file': { type: 'string' },
      'node-down-grace-s': { type: 'string' },
      'log-level': { type: 'string', default: 'warn' },
    },
  });
  const dataDir = v['data-dir'];
  const ifname = v['wg-ifname'];
  const wanIp = v['wan-ip'];
  const socketPath = v['api-socket'];
  if (!dataDir || !ifname || !wanIp || !socketPath) throw new Error('usage: hub-main.ts --data-dir D --wg-ifname I --wan-ip A --api-socket S [--zone Z]');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const ov = addressPlan({ sites: 1, podsPerSite: 2, clients: 0 }).overlay;
  const hubOverlayV4 = ov.hubAddresses[0].split('/')[0];
  const node = v['node-name'] ? { name: v['node-name'], overlayIndex: Number(v['node-index']) } : undefined;
  // A node's broker listens on the node's own overlay address too: sites probe it there.
  const nodeV4 = node ? new OverlayPlan(ov.ipv4Prefix, ov.ipv6Prefix).addresses(node.overlayIndex).v4 : undefined;
  const nameservers = (v.nameserver ?? []).map((x) => {
    const [name, address] = x.split('=');
    return { name, addresses: [address] };
  });

  const config = defaultConfig(dataDir);
  Object.assign(config, {
    httpsPort: 8443,
    httpsHost: wanIp,
    httpPort: 0,
    tlsNames: [wanIp],
    publicUrl: `https://${wanIp}:8443`,
    mqtt: { hosts: ['127.0.0.1', hubOverlayV4, ...(nodeV4 ? [nodeV4] : [])], port: 1883 },
    store: v.store,
    node,
    ...(v['nats-key-file']
      ? {
          // A NATS node per hub node: its MQTT listener on every address (the shared broker address sites use
          // and the node's own, which they probe), its cluster listener on the WAN.
          mqtt: { broker: 'nats', hosts: ['0.0.0.0'], port: 1883, siteUrl: `mqtt://${hubOverlayV4}:1883` },
          nats: {
            nodes: [
              {
                name: node?.name ?? 'hub',
                mqttHost: '0.0.0.0',
                mqttPort: 1883,
                clientPort: 4222,
                httpPort: 8222,
                clusterHost: wanIp,
                clusterPort: 6222,
                routes: v['nats-route'] ?? [],
              },
            ],
            keyFile: v['nats-key-file'],
          },
        }
      : {}),
    overlayV4: ov.ipv4Prefix,
    overlayV6: ov.ipv6Prefix,
    wireguard: { endpoint: `${wanIp}:${ov.hubPort}`, persistentKeepaliveS: 1, mtu: 1380, ifname, listenPort: ov.hubPort },
    heartbeatIntervalS: HEARTBEAT_S,
    rolloutTickMs: 200,
    ...(v['node-down-grace-s'] ? { nodeDownGraceS: Number(v['node-down-grace-s']) } : {}),
    logLevel: v['log-level'],
    router: v.zone ? { zone: v.zone, dns: { host: wanIp, port: 53 }, ...(nameservers.length ? { nameservers } : {}) } : undefined,
  });
  const hub = await startHub(config);
  const tunnel = hub.tunnel;
  if (!tunnel) throw new Error('the hub started without its WireGuard interface');
  const httpPort = Number(new URL(hub.httpUrl ?? '').port);

  // The site events topic as the broker delivers it: an independent witness of arrival order.
  const observed = new Map<string, number[]>();
  const witness = await hub.broker.hubClient();
  witness.on('message', (topic, payload) => {
    const siteId = topic.split('/')[3];
    const seq = (JSON.parse(payload.toString('utf8')) as { seq?: number }).seq;
    if (typeof seq === 'number') observed.set(siteId, [...(observed.get(siteId) ?? []), seq]);
  });
  await witness.subscribeAsync('weft/v1/site/+/events', { qos: 1 });

  rmSync(socketPath, { force: true });
  const api = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: httpPort });
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((res) => api.listen(socketPath, () => res()));

  const control = async (req: ControlRequest): Promise<unknown> => {
    switch (req.op) {
      case 'peers':
        return tunnel.peers();
      case 'connected':
        return hub.broker.connectedSites();
      case 'publish':
        await witness.publishAsync(req.topic, Buffer.from(req.payloadBase64, 'base64'), { qos: 1, retain: req.retain });
        return null;
      case 'observed':
        return observed.get(req.siteId) ?? [];
    }
  };
  createInterface({ input: process.stdin }).on('line', (line) => {
    const req = JSON.parse(line) as ControlRequest;
    control(req).then(
      (result) => process.stdout.write(`CTL ${JSON.stringify({ id: req.id, ok: true, result } satisfies ControlAnswer)}\n`),
      (err: Error) => process.stdout.write(`CTL ${JSON.stringify({ id: req.id, ok: false, error: err.message } satisfies ControlAnswer)}\n`),
    );
  });

  const stop = async () => {
    api.close();
    rmSync(socketPath, { force: true });
    await hub.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
  const ready: HubReady = {
    url: hub.url.replace('127.0.0.1', wanIp),
    httpPort,
    caFingerprint: hub.caFingerprint,
    adminTokenFile: hub.adminTokenFile,
    mqttPort: hub.broker.port,
    wgPublicKey: tunnel.publicKey,
    dns: hub.router ? { host: hub.router.dns.host, port: hub.router.dns.port } : null,
    node: node?.name ?? null,
    pid: process.pid,
  };
  process.stdout.write(`HUB-READY ${JSON.stringify(ready)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`hub-main: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
