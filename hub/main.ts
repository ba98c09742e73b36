// The hub process: store, CA and keys, broker, rollout, ingest, health and the HTTP API, wired once.
// `node bin/run.mjs hub/main.ts --data-dir ... --https-port ...` runs it; tests call startHub().
import { nodeUsername } from '../protocol/index.ts';
import { chmodSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { MqttClient } from 'mqtt';
import pino, { type Logger } from 'pino';
import { Counter, Registry } from 'prom-client';
import { errorMessage, formatError } from '../base/index.ts';
import { HubTunnel, loadOrCreatePrivateKey, OverlayPlan, registerTunnelMetrics } from '../tunnel/index.ts';
import { bootstrapAdmin } from './auth/api-tokens.ts';
import { startBroker, startMosquitto, type Broker, type BrokerStartOptions } from './broker/index.ts';
import { ConfigError, parseHubArgs, USAGE, type HubConfig } from './config.ts';
import { MemoryPeers } from './enroll/peers.ts';
import { NodeAcks } from './rollout/node-acks.ts';
import { createHealthModel, createSitesView, startHealthMonitor, type HealthModel, type RecordSitesView } from '../router/index.ts';
import { healthRoutes } from './health/index.ts';
import { routerRoutes, startRouter, type Router } from '../router/index.ts';
import { startIngest, type Ingest } from './ingest/site-messages.ts';
import { loadTls } from './pki/ca.ts';
import { SigningKeys } from './pki/signing-keys.ts';
import { BundleService } from './rollout/bundles.ts';
import { AlwaysLeader } from './rollout/always-leader.ts';
import { RolloutEngine } from './rollout/engine.ts';
import type { EngineLease } from './rollout/lease.ts';
import { PolicyVersions } from './rollout/policy-versions.ts';
import { buildApp } from './server/app.ts';
import type { HubServices } from './server/services.ts';
import { routableRecord, SitesService } from './sites/sites-service.ts';
import { openStore } from './store/open.ts';
import type { HubStore, SiteRecord } from './store/types.ts';

export interface Hub {
  config: HubConfig;
  /** https://127.0.0.1:<port> */
  url: string;
  /** http://127.0.0.1:<port> when the loopback listener is on. */
  httpUrl: string | null;
  caFingerprint: string;
  caCertPem: string;
  /** Where the first admin token was written on first start (0600). */
  adminTokenFile: string;
  broker: Broker;
  store: HubStore;
  services: HubServices;
  health: HealthModel;
  sitesView: RecordSitesView;
  /** The end-user router, when config.router is set. */
  router: Router | null;
  /** The hub's WireGuard interface, when config.wireguard.ifname is set. */
  tunnel: HubTunnel | null;
  app: FastifyInstance;
  close(): Promise<void>;
}

function publisherOf(client: MqttClient) {
  return {
    publish: async (topic: string, payload: Buffer, opts: { qos: 0 | 1; retain: boolean }) => {
      await client.publishAsync(topic, payload, opts);
    },
  };
}

export async function startHub(config: HubConfig): Promise<Hub> {
  const now = config.now ?? Date.now;
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const log: Logger = pino({ level: config.logLevel, name: 'weft-hub' });
  const cleanup: (() => Promise<void> | void)[] = [];
  const close = async () => {
    for (const c of cleanup.reverse()) await c();
    cleanup.length = 0;
  };
  try {
    const store = await openStore(config.store ?? `sqlite:${join(config.dataDir, 'hub.db')}`);
    cleanup.push(() => store.close());
    const tls = loadTls(join(config.dataDir, 'pki'), config.tlsNames);
    const keys = new SigningKeys(store.keys, join(config.dataDir, 'signing-keys'), config.keyRotation);
    await keys.ensure(now());
    const adminTokenFile = join(config.dataDir, 'admin-token');
    if (await bootstrapAdmin(store, adminTokenFile, now())) log.info({ file: adminTokenFile }, 'first start: admin token written');
    const registry = new Registry();
    const overlay = new OverlayPlan(config.overlayV4, config.overlayV6);
    // The interface comes before the broker, which listens on its overlay address.
    let tunnel: HubTunnel | null = null;
    if (config.wireguard.ifname && !config.wireguard.peers) {
      const t = new HubTunnel({
        ifname: config.wireguard.ifname,
        privateKey: loadOrCreatePrivateKey(join(config.dataDir, 'wireguard.key')),
        listenPort: config.wireguard.listenPort ?? 51820,
        addresses: overlay.hubInterface(),
        logger: log.child({ part: 'tunnel' }),
      });
      await t.up();
      cleanup.push(() => t.down());
      registerTunnelMetrics(registry, t);
      tunnel = t;
    }
    const peers = config.wireguard.peers ?? tunnel ?? new MemoryPeers();
    const wgPublicKey = config.wireguard.publicKey ?? tunnel?.publicKey ?? loadOrCreatePrivateKey(join(config.dataDir, 'wireguard.key')).publicKey();

    // Revocation effects reach the broker and bundles, which need the sites service first: bound late.
    let broker: Broker | undefined;
    let bundles: BundleService | undefined;
    const sites = new SitesService(
      store,
      {
        kick: async (id) => {
          await broker?.kick(id);
          await broker?.sync();
        },
        removePeer: (id) => peers.removePeer(id),
        clearBundle: async (id) => {
          await bundles?.clear(id);
        },
      },
      now,
    );
    const brokerOpts: BrokerStartOptions = {
      hosts: config.mqtt.hosts,
      port: config.mqtt.port,
      limits: config.mqtt.limits,
      logger: log.child({ part: 'broker' }),
      registry,
      auth: {
        authenticate: (username, password) => sites.verifyPublisher(username, password),
        isRevoked: (id, node) => sites.isRevoked(id, node),
      },
    };
    if (config.mqtt.broker === 'mosquitto') {
      // Mosquitto started as root drops to its own user, which must traverse the data dir to reach its
      // files: 0711 lets it pass without listing; every secret in the dir is itself 0600.
      chmodSync(config.dataDir, 0o711);
    }
    broker =
      config.mqtt.broker === 'mosquitto'
        ? await startMosquitto({ ...brokerOpts, dir: join(config.dataDir, 'mosquitto'), credentials: () => sites.credentials() })
        : await startBroker(brokerOpts);
    const b = broker;
    cleanup.push(() => b.close());
    const pubClient = await broker.hubClient();
    bundles = new BundleService(store, keys, publisherOf(pubClient), now);
    // Past one hub, one rollout engine acts at a time: the holder of a lease in PostgreSQL.
    const lease: EngineLease =
      config.store && store.backend === 'postgres'
        ? new (await import('./store/postgres/lease.ts')).PgLease({ url: config.store, holder: `${hostname()}:${process.pid}`, now })
        : new AlwaysLeader();
    const engine = new RolloutEngine(store, bundles, now, log.child({ part: 'rollout' }), lease);
    cleanup.push(() => engine.stop());
    cleanup.push(() => lease.stop());
    lease.on('acquired', (epoch: number) => {
      log.info({ epoch }, 'rollout lease acquired: this hub runs the rollouts');
      engine.resume().catch((err: unknown) => log.warn({ err: errorMessage(err) }, 'resuming rollouts failed; the next tick retries'));
    });
    lease.on('lost', () => log.warn('rollout lease lost: another hub runs the rollouts'));
    const ingest: Ingest = await startIngest({
      client: await broker.hubClient(),
      store,
      registry,
      log: log.child({ part: 'ingest' }),
      now,
      retention: config.retention,
      handlers: {
        onAck: (id, ack) => engine.onAck(id, ack),
        onAppliedGeneration: (id, g) => engine.onAppliedGeneration(id, g),
        onNodeAck: (id, node, ack) => nodeAcks.onNodeAck(id, node, ack),
        onNodeAppliedGeneration: (id, node, g) => nodeAcks.onNodeAppliedGeneration(id, node, g),
      },
    });
    cleanup.push(() => ingest.close());
    // A multi-node site's ack is decided from its nodes' (hub/rollout/node-gate.ts), with their liveness from the health model.
    const nodeAcks = new NodeAcks({
      store,
      onSiteAck: (id, ack) => engine.onAck(id, ack),
      liveness: (id, node) => {
        const h = health.node(id, node);
        return h && { up: h.health !== 'offline', since: h.since };
      },
      now,
      config: { downGraceMs: config.nodeDownGraceS * 1000 },
      log: log.child({ part: 'rollout' }),
    });
    cleanup.push(() => nodeAcks.stop());

    const health = createHealthModel({ heartbeatIntervalMs: config.heartbeatIntervalS * 1000 });
    // The health model knows each multi-node site's enrolled nodes (a node never heard is offline).
    const syncNodes = async (siteId: string) =>
      health.setNodes(
        siteId,
        (await store.nodes.list(siteId)).filter((n) => n.state === 'enrolled').map((n) => n.name),
        now(),
      );
    for (const siteId of new Set((await store.nodes.all({ state: 'enrolled' })).map((n) => n.siteId))) {
      await syncNodes(siteId);
      nodeAcks.watch(siteId);
    }
    health.on('event', (e: { siteId: string }) => void nodeAcks.nodeChanged(e.siteId).catch(() => undefined));
    sites.on('node-removed', (id: string) => void syncNodes(id).catch(() => undefined));
    // The health model and the router ask about sites per message: they read this copy of the site
    // table, kept current by this process's own changes and, past one hub, re-read every tick.
    const known = new Map<string, SiteRecord>();
    const reloadSites = async () => {
      const all = await store.sites.list();
      known.clear();
      for (const s of all) if (s.state !== 'revoked') known.set(s.id, s);
    };
    await reloadSites();
    const sitesView = createSitesView({ listSites: () => [...known.values()].map(routableRecord), health, now });
    cleanup.push(() => sitesView.close());
    sites.on('changed', (s: SiteRecord) => {
      known.set(s.id, s);
      sitesView.upsert(routableRecord(s));
    });
    sites.on('removed', (id: string) => {
      known.delete(id);
      sitesView.remove(id);
    });
    const monitor = await startHealthMonitor({
      client: await broker.hubClient(),
      health,
      sessions: broker.sessions,
      now,
      registry,
      logger: log.child({ part: 'health' }),
      knownSite: (id) => known.get(id)?.state === 'enrolled',
    });
    cleanup.push(() => monitor.close());
    let router: Router | null = null;
    if (config.router) {
      router = await startRouter({ ...config.router, sites: sitesView, logger: log, registry });
      const r = router;
      cleanup.push(() => r.close());
    }

    // The store is the truth for tunnel peers: re-add every enrolled site (the tunnel starts empty), one at
    // a time. A peer the tunnel refuses (a key stored before keys were checked) is reported and skipped:
    // one bad site must not keep the hub, and every other site, down.
    const peerFailures = new Counter({
      name: 'weft_hub_peer_start_failures_total',
      help: 'Enrolled sites whose tunnel peer was refused at start',
      registers: [registry],
    });
    for (const s of await store.sites.list({ state: 'enrolled' })) {
      if (s.wireguardKey && s.overlayIndex !== null) {
        try {
          await peers.addPeer(s.id, s.wireguardKey, overlay.hostRoutes(s.overlayIndex));
        } catch (e) {
          peerFailures.inc();
          log.error(
            { siteId: s.id, err: errorMessage(e) },
            'tunnel peer refused at start; the site cannot connect until it re-enrolls with a valid key of its own (weft site token)',
          );
        }
      }
    }
    for (const n of await store.nodes.all({ state: 'enrolled' })) {
      try {
        await peers.addPeer(nodeUsername(n.siteId, n.name), n.wireguardKey, overlay.hostRoutes(n.overlayIndex));
      } catch (e) {
        peerFailures.inc();
        log.error(
          { siteId: n.siteId, node: n.name, err: errorMessage(e) },
          'tunnel peer of a node refused at start; the node cannot connect until it re-enrolls',
        );
      }
    }
    await bundles.publishKeys();
    const republished = await bundles.republishLatest();

    const hubAddr = overlay.hub();
    const services: HubServices = {
      store,
      sites,
      overlay,
      policies: new PolicyVersions(store, now),
      rollouts: engine,
      bundles,
      keys,
      registry,
      log,
      now,
      ca: { fingerprint: tls.caFingerprint, certPem: tls.caCertPem },
      publicUrl: '',
      health,
      nodeDownGraceMs: config.nodeDownGraceS * 1000,
      enroll: {
        store,
        overlay,
        peers,
        now,
        trustedKeys: () => keys.trusted(now()),
        keySetVersion: () => keys.version(now()),
        // Mosquitto reads credentials from files: rewrite and reload before the agent tries them (no-op for aedes).
        // Then the site's bundle of the policy the fleet is on goes out retained, so it finds it on connect.
        onEnrolled: async (s) => {
          await syncNodes(s.id);
          sites.emit('changed', s);
          await b.sync();
          await engine.onEnrolled(s);
        },
        settings: {
          brokerUrl: config.mqtt.siteUrl ?? `mqtt://${hubAddr.v4}:${broker.port}`,
          wireguard: {
            hubPublicKey: wgPublicKey,
            hubEndpoint: config.wireguard.endpoint,
            persistentKeepaliveS: config.wireguard.persistentKeepaliveS,
            mtu: config.wireguard.mtu,
          },
          heartbeatIntervalS: config.heartbeatIntervalS,
        },
      },
    };
    let plain: http.Server | undefined;
    const app = await buildApp(services, {
      bodyLimit: config.bodyLimitBytes,
      publicLimits: config.publicLimits,
      serverFactory: (handler) => {
        plain = http.createServer(handler);
        // The chain carries the CA: agents pin it by fingerprint (edge-agent/pinned-https.ts).
        return https.createServer({ key: tls.keyPem, cert: `${tls.certPem.trimEnd()}\n${tls.caCertPem}` }, handler);
      },
      plugins: [
        async (a) => {
          await a.register(healthRoutes, { health });
        },
        async (a) => {
          if (router) await a.register(routerRoutes, { router });
        },
      ],
    });
    cleanup.push(() => app.close());
    await app.listen({ port: config.httpsPort, host: config.httpsHost });
    const httpsPort = (app.server.address() as AddressInfo).port;
    services.publicUrl = config.publicUrl ?? `https://${config.tlsNames[0] ?? '127.0.0.1'}:${httpsPort}`;
    let httpUrl: string | null = null;
    if (config.httpPort !== null && plain) {
      const p = plain;
      await new Promise<void>((res, rej) => {
        p.once('error', rej);
        p.listen(config.httpPort!, '127.0.0.1', () => res());
      });
      cleanup.push(
        () =>
          new Promise<void>((res) => {
            p.closeAllConnections();
            p.close(() => res());
          }),
      );
      httpUrl = `http://127.0.0.1:${(p.address() as AddressInfo).port}`;
    }

    // Keys that stop being trusted are withdrawn from the broadcast; rollouts resume where the store says.
    let trustedIds = keys
      .trusted(now())
      .map((k) => k.keyId)
      .join();
    const maintenance = setInterval(async () => {
      if (store.backend === 'postgres') {
        // Another replica may have rotated keys or changed sites.
        try {
          await keys.load();
          await reloadSites();
          sitesView.refresh();
        } catch (err) {
          log.warn({ err: errorMessage(err) }, 'reading keys and sites from the store failed; the next tick retries');
        }
      }
      const ids = keys
        .trusted(now())
        .map((k) => k.keyId)
        .join();
      if (ids !== trustedIds) {
        trustedIds = ids;
        bundles!.publishKeys().catch((err: Error) => log.warn({ err: err.message }, 'signing keys publish failed'));
      }
    }, config.rolloutTickMs);
    maintenance.unref();
    cleanup.push(() => clearInterval(maintenance));
    await engine.resume();
    engine.start(config.rolloutTickMs);
    lease.start();

    log.info(
      { url: `https://127.0.0.1:${httpsPort}`, httpUrl, mqtt: broker.url(), dns: router?.dns, caFingerprint: tls.caFingerprint, republished },
      'hub started',
    );
    return {
      config,
      url: `https://127.0.0.1:${httpsPort}`,
      httpUrl,
      caFingerprint: tls.caFingerprint,
      caCertPem: tls.caCertPem,
      adminTokenFile,
      broker,
      store,
      services,
      health,
      sitesView,
      router,
      tunnel,
      app,
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

async function runProcess(argv: string[]): Promise<void> {
  let config: HubConfig;
  try {
    config = parseHubArgs(argv);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`hub: ${formatError(e)}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  const hub = await startHub(config);
  process.stdout.write(
    `weft hub: ${hub.url}${hub.httpUrl ? ` (local: ${hub.httpUrl})` : ''}\n` +
      `  broker: ${hub.broker.url()}\n${hub.router ? `  DNS: ${hub.router.dns.host}:${hub.router.dns.port} (zone ${hub.router.config.zone})\n` : ''}  CA fingerprint (sha256): ${hub.caFingerprint}\n  admin token file: ${hub.adminTokenFile}\n`,
  );
  const stop = () => {
    void hub.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runProcess(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`hub: ${formatError(err)}\n`);
    process.exit(1);
  });
}
