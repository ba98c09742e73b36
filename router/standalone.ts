// The router on its own (weft-router): the same router the hub runs, fed the same way, without the
// hub. Site records come from a loader (a file, re-read on reload); health comes from the broker,
// whose retained status and live heartbeats it subscribes to with the health model every hub replica
// runs (router/health/), so a standalone router and the hub answer alike. It serves DNS and, when
// asked, HTTP /go and /v1/route plus /metrics. Nothing here needs the hub or its API to be up.
import { randomBytes } from 'node:crypto';
import { connectAsync, type MqttClient } from 'mqtt';
import Fastify, { type FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { Registry } from 'prom-client';
import { errorMessage, WeftError } from '../base/index.ts';
import type { RouterSettings } from './config.ts';
import { createHealthModel, createSitesView, startHealthMonitor, type HealthMonitor, type RecordSitesView, type SiteRecord } from './health/index.ts';
import { routerRoutes } from './http-routes.ts';
import { startRouter, type Router } from './router.ts';

export interface BrokerTarget {
  /** mqtt://host:port or mqtts://host:port; several for a broker cluster (tried in turn). */
  urls: string[];
  username: string;
  password: string;
  /** PEM of the broker's certificate or CA (mqtts): pinned, nothing else trusted. */
  ca?: string;
  /** The broker only lets client ids `<username>.<anything>` in (the hub's own convention). */
  clientIdPrefix?: string;
}

export interface StandaloneOptions {
  settings: RouterSettings;
  /** Site records (not revoked); called at start and on reload(). */
  loadSites: () => SiteRecord[];
  broker: BrokerTarget;
  /** HTTP /go, /v1/route and /metrics; null: DNS only. */
  http: { host: string; port: number } | null;
  /** The agents' heartbeat interval: it sets when a silent site goes stale, as in the hub. Default 5000. */
  heartbeatIntervalMs?: number;
  logger?: Logger;
  registry?: Registry;
  now?: () => number;
}

export interface StandaloneRouter {
  readonly router: Router;
  readonly view: RecordSitesView;
  readonly http: { host: string; port: number } | null;
  /** Re-reads the site records (SIGHUP). */
  reload(): void;
  close(): Promise<void>;
}

/** The broker could not be reached at start (later losses are retried): the router has no health without it. */
export class BrokerConnectError extends WeftError<'ROUTER_BROKER'> {
  override readonly name = 'BrokerConnectError';
  constructor(urls: string[], cause: string) {
    super(
      'ROUTER_BROKER',
      `cannot reach the broker at ${urls.join(', ')}: ${cause}`,
      'check --broker, the user name and password file, and that the broker accepts this client',
    );
  }
}

async function connectBroker(b: BrokerTarget): Promise<MqttClient> {
  const [first, ...rest] = b.urls;
  const servers = [first, ...rest].map((u) => {
    const url = new URL(u);
    return {
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: Number(url.port || (url.protocol === 'mqtts:' ? 8883 : 1883)),
      protocol: url.protocol.replace(':', '') as 'mqtt' | 'mqtts',
    };
  });
  try {
    return await connectAsync(first, {
      clientId: `${b.clientIdPrefix ?? b.username}.router.${randomBytes(4).toString('hex')}`,
      username: b.username,
      password: b.password,
      // aedes speaks 3.1.1 only (hub/broker/types.ts).
      protocolVersion: 4,
      // A clean session: on reconnect the subscription is made again and the broker replays the
      // retained statuses, which is how the view catches up with what it missed.
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      ...(servers.length > 1 ? { servers } : {}),
      ...(b.ca ? { ca: b.ca, checkServerIdentity: () => undefined } : {}),
    });
  } catch (err) {
    throw new BrokerConnectError(b.urls, errorMessage(err));
  }
}

export async function startStandaloneRouter(opts: StandaloneOptions): Promise<StandaloneRouter> {
  const log = opts.logger ?? pino({ level: 'info' });
  const registry = opts.registry ?? new Registry();
  const now = opts.now ?? Date.now;
  const health = createHealthModel({ heartbeatIntervalMs: opts.heartbeatIntervalMs ?? 5000 });
  const view = createSitesView({ listSites: opts.loadSites, health, now });
  const closers: (() => Promise<void>)[] = [async () => view.close()];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch((err) => log.warn({ err: errorMessage(err) }, 'router: close failed'));
  };
  try {
    const client = await connectBroker(opts.broker);
    closers.push(() => client.endAsync(true));
    client.on('error', (err) => log.warn({ err: err.message }, 'router: broker connection error'));
    client.on('reconnect', () => log.info('router: reconnecting to the broker'));
    // Every site's health is kept, listed or not: a site added by reload() is routed with the health
    // the broker already told, instead of waiting for heartbeats. Unlisted sites are never routed.
    const monitor: HealthMonitor = await startHealthMonitor({ client, health, registry, logger: log, now });
    closers.push(() => monitor.close());
    const router = await startRouter({ ...opts.settings, sites: view, logger: log, registry });
    closers.push(() => router.close());
    let http: StandaloneRouter['http'] = null;
    if (opts.http) {
      const a: FastifyInstance = Fastify({ logger: false });
      closers.push(() => a.close());
      a.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
      await a.register(routerRoutes, { router });
      await a.listen({ host: opts.http.host, port: opts.http.port });
      const addr = a.server.address();
      http = { host: opts.http.host, port: typeof addr === 'object' && addr ? addr.port : opts.http.port };
    }
    return {
      router,
      view,
      http,
      reload: () => view.refresh(),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
