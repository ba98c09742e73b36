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
import {
  issueDerivedCredential,
  loadOrCreateBrokerKey,
  startBroker,
  startMosquitto,
  startNats,
  type Broker,
  type BrokerStartOptions,
  type NatsBroker,
} from './broker/index.ts';
import { ConfigError, parseHubArgs, USAGE, type HubConfig } from './config.ts';
import { MemoryPeers } from './enroll/peers.ts';
import { LinksService } from './mesh/links-service.ts';
import { MeshService } from './mesh/mesh-service.ts';
import { withRelay } from './mesh/relay.ts';
import { MappedPlan } from '../protocol/index.ts';
import { NodeAcks } from './rollout/node-acks.ts';
import { createHealthModel, createSitesView, startHealthMonitor, type HealthModel, type RecordSitesView, type SiteHealthEvent } from '../router/index.ts';
import { healthRoutes } from './health/index.ts';
import { routerRoutes, startRouter, type Router } from '../router/index.ts';
import { startIngest, type Ingest } from './ingest/site-messages.ts';
import { loadTls } from './pki/ca.ts';
import { SigningKeys } from './pki/signing-keys.ts';
import { BundleService } from './rollout/bundles.ts';
import { AlwaysLeader } from './rollout/always-leader.ts';
import { RolloutEngine } from './rollout/engine.ts';
import { UpdateService } from './rollout/updates.ts';
import { HUB_VERSION } from './version.ts';
import type { EngineLease } from './rollout/lease.ts';
import { PolicyVersions } from './rollout/policy-versions.ts';
import { buildApp } from './server/app.ts';
import type { HubServices } from './server/services.ts';
import { HealthRecorder } from './sites/health-recorder.ts';
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
    const mappedPlan = new MappedPlan();
    const node = config.node;
    if (node) await checkNodeIndex(store, overlay, node);
    // The interface comes before the broker, which listens on its overlay address. A hub node also owns
    // its own address, which sites probe to tell whether this node answers (tunnel/site-tunnel.ts).
    let tunnel: HubTunnel | null = null;
    if (config.wireguard.ifname && !config.wireguard.peers) {
      const t = new HubTunnel({
        ifname: config.wireguard.ifname,
        privateKey: loadOrCreatePrivateKey(join(config.dataDir, 'wireguard.key')),
        listenPort: config.wireguard.listenPort ?? 51820,
        addresses: [...overlay.hubInterface(), ...(node ? overlay.hostRoutes(node.overlayIndex) : [])],
        // The relay: every site's mapped block is routed into the tunnel and forwarded peer to peer.
        routes: [mappedPlan.poolPrefix],
        forward: true,
        logger: log.child({ part: 'tunnel' }),
      });
      await t.up();
      cleanup.push(() => t.down());
      registerTunnelMetrics(registry, t);
      tunnel = t;
    }
    const peers = withRelay(config.wireguard.peers ?? tunnel ?? new MemoryPeers(), overlay, mappedPlan);
    const wgPublicKey = config.wireguard.publicKey ?? tunnel?.publicKey ?? loadOrCreatePrivateKey(join(config.dataDir, 'wireguard.key')).publicKey();
    // Registered before any enrollment this node answers: sites enrolled from now on get a peer to it.
    const register = async () => {
      if (node)
        await store.cluster.upsertNode({
          name: node.name,
          wireguardKey: wgPublicKey,
          endpoint: config.wireguard.endpoint,
          overlayIndex: node.overlayIndex,
          seenAt: now(),
        });
    };
    await register();

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
    // NATS mode: site passwords derive from the broker key, so every hub can write them into the cluster's authorization.
    const brokerKey = config.mqtt.broker === 'nats' ? loadOrCreateBrokerKey(config.nats?.keyFile ?? join(config.dataDir, 'broker.key')) : null;
    let nats: NatsBroker | null = null;
    if (brokerKey) {
      nats = await startNats({
        ...brokerOpts,
        dir: join(config.dataDir, 'nats'),
        key: brokerKey,
        nodes: config.nats?.nodes ?? [],
        siteUrls: config.mqtt.siteUrls ?? (config.mqtt.siteUrl ? [config.mqtt.siteUrl] : undefined),
        credentials: () => sites.credentials(),
        revokedSites: async () => (await store.sites.list({ state: 'revoked' })).map((s) => ({ siteId: s.id, username: s.id })),
      });
      broker = nats;
    } else
      broker =
        config.mqtt.broker === 'mosquitto'
          ? await startMosquitto({ ...brokerOpts, dir: join(config.dataDir, 'mosquitto'), credentials: () => sites.credentials() })
          : await startBroker(brokerOpts);
    const b = broker;
    cleanup.push(() => b.close());
    // The embedded broker takes the hub's publishes in-process (a stage of 10 000 bundles would otherwise
    // go through a client socket, be parsed back and PUBACKed one by one); others through a client.
    const publisher = broker.publishLocal ? { publish: broker.publishLocal } : publisherOf(await broker.hubClient());
    bundles = new BundleService(store, keys, publisher, now);
    // Past one hub, one rollout engine acts at a time: the holder of a lease in PostgreSQL.
    const lease: EngineLease =
      config.store && store.backend === 'postgres'
        ? new (await import('./store/postgres/lease.ts')).PgLease({ url: config.store, holder: `${hostname()}:${process.pid}`, now })
        : new AlwaysLeader();
    const engine = new RolloutEngine(store, bundles, now, log.child({ part: 'rollout' }), lease);
    const ackDuplicates = new Counter({
      name: 'weft_hub_ack_duplicates_total',
      help: 'Acks dropped as already recorded (site, device, seq): redeliveries, and copies another replica recorded first',
      registers: [registry],
    });
    engine.onDuplicateAck = () => ackDuplicates.inc();
    // Agent updates: the same staged decisions; the public URL is known once the API listens.
    let publicUrl = '';
    const updates = new UpdateService(store, publisher, now, log.child({ part: 'updates' }), {
      hubVersion: HUB_VERSION,
      releaseDir: join(config.dataDir, 'releases'),
      publicUrl: () => publicUrl,
    });
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
        onAck: (id, ack, device) => engine.onAck(id, ack, device),
        onAppliedGeneration: (id, g) => engine.onAppliedGeneration(id, g),
        onUpdateReport: (id, r) => updates.onReport(id, r),
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
    // Site timelines read health changes from the store: every replica records what its model sees.
    const recorder = new HealthRecorder(health, store, log.child({ part: 'health' }), config.heartbeatIntervalS * 1000);
    cleanup.push(() => recorder.close());
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
    if (store.backend === 'postgres') {
      // Past one hub the sites' health lives in the store too: a replica that starts (or takes over)
      // knows it before their next heartbeats, and writes every change it sees (an older change
      // arriving late from a slower replica does not win: ClusterRepo.putHealth).
      const by = node?.name ?? `${hostname()}:${process.pid}`;
      for (const h of await store.cluster.health()) if (known.has(h.siteId)) health.seed(h, now());
      health.on('event', (e: SiteHealthEvent) => {
        store.cluster
          .putHealth({ siteId: e.siteId, health: e.to, reason: e.reason, since: e.at, by })
          .catch((err: unknown) => log.warn({ siteId: e.siteId, err: errorMessage(err) }, 'writing site health to the store failed'));
      });
    }
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
    // Past one hub, other replicas enroll and revoke too: each maintenance tick brings this node's peers
    // (and its broker's sessions) to what the store says.
    const peered = new Map<string, string>();
    const syncPeers = async (atStart: boolean) => {
      const enrolled = await store.sites.list({ state: 'enrolled' });
      const want = new Set<string>();
      for (const s of enrolled) {
        if (!s.wireguardKey || s.overlayIndex === null) continue;
        want.add(s.id);
        if (peered.get(s.id) === s.wireguardKey) continue;
        try {
          await peers.addPeer(s.id, s.wireguardKey, overlay.hostRoutes(s.overlayIndex));
          peered.set(s.id, s.wireguardKey);
          if (!atStart) log.info({ siteId: s.id }, 'tunnel peer added: enrolled through another hub node');
        } catch (e) {
          peered.set(s.id, s.wireguardKey);
          peerFailures.inc();
          log.error(
            { siteId: s.id, err: errorMessage(e) },
            'tunnel peer refused; the site cannot connect until it re-enrolls with a valid key of its own (weft site token)',
          );
        }
      }
      // The nodes of multi-node sites: each its own peer (`<siteId>.<node>`).
      for (const n of await store.nodes.all({ state: 'enrolled' })) {
        const id = nodeUsername(n.siteId, n.name);
        want.add(id);
        if (peered.get(id) === n.wireguardKey) continue;
        try {
          await peers.addPeer(id, n.wireguardKey, overlay.hostRoutes(n.overlayIndex));
          peered.set(id, n.wireguardKey);
          if (!atStart) log.info({ siteId: n.siteId, node: n.name }, 'tunnel peer of a node added: enrolled through another hub node');
        } catch (e) {
          peered.set(id, n.wireguardKey);
          peerFailures.inc();
          log.error({ siteId: n.siteId, node: n.name, err: errorMessage(e) }, 'tunnel peer of a node refused; the node cannot connect until it re-enrolls');
        }
      }
      for (const id of [...peered.keys()]) {
        if (want.has(id)) continue;
        peered.delete(id);
        await peers.removePeer(id);
        await b.kick(id);
        log.info({ siteId: id }, 'tunnel peer removed and broker session closed: revoked through another hub node');
      }
    };
    await syncPeers(true);
    await bundles.publishKeys();
    const republished = await bundles.republishLatest();

    // Site links: reports from sites in, signed peer bundles out (hub/mesh).
    const mesh = new MeshService({
      store,
      client: await broker.hubClient(),
      plan: mappedPlan,
      hostRoutes: (i) => overlay.hostRoutes(i),
      observed: async () => new Map((tunnel ? await tunnel.peers() : []).map((p) => [p.siteId, p.endpoint])),
      signer: () => keys.active(now()).privateKey,
      now,
      log: log.child({ part: 'mesh' }),
    });
    await mesh.start(config.meshRefreshMs ?? 2000);
    cleanup.push(() => mesh.stop());
    sites.on('changed', () => void mesh.refreshSoon());
    sites.on('removed', () => void mesh.refreshSoon());

    const hubAddr = overlay.hub();
    const services: HubServices = {
      store,
      sites,
      overlay,
      policies: new PolicyVersions(store, now),
      rollouts: engine,
      updates,
      bundles,
      keys,
      registry,
      log,
      now,
      ca: { fingerprint: tls.caFingerprint, certPem: tls.caCertPem },
      publicUrl: '',
      health,
      mesh: { links: new LinksService(store, now, () => mesh.refreshSoon()), view: () => mesh.view() },
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
        ...(brokerKey ? { issueCredential: (siteId: string) => issueDerivedCredential(brokerKey, siteId) } : {}),
        settings: {
          brokerUrl: nats?.siteUrls()[0] ?? config.mqtt.siteUrl ?? `mqtt://${hubAddr.v4}:${broker.port}`,
          ...(nats ? { brokerUrls: nats.siteUrls() } : {}),
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
    publicUrl = services.publicUrl;
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
        // Another replica may have rotated keys, enrolled or revoked sites.
        try {
          await keys.load();
          await reloadSites();
          sitesView.refresh();
          await syncPeers(false);
          await register();
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

/** A node's own overlay address must be no site's (sites never get a registered node's index: enroll.ts). */
async function checkNodeIndex(store: HubStore, overlay: OverlayPlan, node: { name: string; overlayIndex: number }): Promise<void> {
  if (node.overlayIndex > overlay.maxIndex) {
    throw new ConfigError(
      `--node-index ${node.overlayIndex}: outside the overlay prefix (largest index ${overlay.maxIndex})`,
      'pick one at the top of the prefix',
    );
  }
  if ((await store.sites.usedOverlayIndexes()).has(node.overlayIndex)) {
    throw new ConfigError(`--node-index ${node.overlayIndex}: a site already holds that overlay address`, 'pick another index, from the top of the prefix');
  }
  const other = (await store.cluster.nodes()).find((n) => n.overlayIndex === node.overlayIndex && n.name !== node.name);
  if (other) throw new ConfigError(`--node-index ${node.overlayIndex}: hub node ${other.name} has it`, 'every node takes its own index');
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
