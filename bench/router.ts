// npm run bench:router — Weft's router against PowerDNS with LUA records (pickclosest + ifportup),
// same zone, sites, geo database and client subnets, and against the ceiling, Knot DNS serving the
// same name as one static A record, in one run:
//   1. DNS QPS and latency with dnsperf (with and without EDNS Client Subnet), every server; Weft with
//      one DNS worker and with one per core, while a site's health changes every second;
//   2. unloaded latency percentiles from our own probe;
//   3. HTTP redirects per second with autocannon (Weft only: PowerDNS has no HTTP redirect);
//   4. failover: kill -9 a site -> first DNS answer leaving it out, every server;
//   5. silent network cut of a site's MQTT link -> first answer leaving it out, vs 1.5 x keepalive.
// Weft runs as the hub runs it: the real aedes broker (hub/broker), health model and SitesView
// (router/health) feeding the router; sites are child processes holding MQTT sessions with a last will.
import { errorMessage } from '../base/index.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import pino from 'pino';
import { startBroker } from '../hub/index.ts';
import { createHealthModel, createSitesView, routerRoutes, startHealthMonitor, startRouter, type SiteRecord } from '../router/index.ts';
import { cityRecord, writeMmdb } from '../router/testing/index.ts';
import { percentile, writeReport } from './lib/report.ts';
import { DnsProbe } from './router/dns-probe.ts';
import { dnsperf } from './router/dnsperf.ts';
import { routerMarkdown, type PerfRun, type RouterResults } from './router/markdown.ts';
import { pdnsVersion, startPdns } from './router/pdns.ts';
import { knotVersion, startKnot } from './router/knot.ts';
import type { HeartbeatMessage } from '../protocol/index.ts';
import { availableParallelism } from 'node:os';
import { startRelay, type Relay } from './router/relay.ts';
import { cpuSeconds, descendants } from './router/cpu.ts';
import { UDP_BUFFER_BYTES } from '../router/index.ts';

const here = dirname(fileURLToPath(import.meta.url));
const ZONE = 'svc.bench.example';
const NAME = `pos.${ZONE}`;
const TTL = 10;
const KEEPALIVE_S = 5;
const HEARTBEAT_MS = 5000;
const DNSPERF_S = 10;
const REPEATS = 2;
const DNSPERF_CLIENTS = 4;
const DNSPERF_OUTSTANDING = 200;
const log = (m: string) => process.stderr.write(`bench:router: ${m}\n`);

const CITIES = [
  ['paris', 48.8566, 2.3522],
  ['berlin', 52.52, 13.405],
  ['madrid', 40.4168, -3.7038],
  ['lyon', 45.764, 4.8357],
  ['london', 51.5072, -0.1276],
  ['rome', 41.9028, 12.4964],
  ['warsaw', 52.2297, 21.0122],
  ['nyc', 40.7128, -74.006],
] as const;
const sites = CITIES.map(([id, lat, lon], i) => ({ id, lat, lon, address: `127.1.0.${i + 1}`, subnet: `100.64.${i + 1}.0/24` }));

async function freePort(host: string): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((r) => {
      const s = createServer().listen(0, host, () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => r(p));
      });
    });
    const udpFree = await new Promise<boolean>((r) => {
      const u = createSocket('udp4');
      u.once('error', () => r(false));
      u.bind(port, '127.0.0.1', () => u.close(() => r(true)));
    });
    if (udpFree) return port;
  }
}

interface SiteProc {
  id: string;
  child: ChildProcess;
  relay: Relay;
}

async function startSite(id: string, password: string, brokerPort: number, address: string, servicePort: number): Promise<SiteProc> {
  const relay = await startRelay('127.0.0.1', brokerPort);
  const child = spawn(
    process.execPath,
    [
      join(here, '..', 'bin', 'run.mjs'),
      join(here, 'router', 'site-process.ts'),
      id,
      password,
      `mqtt://127.0.0.1:${relay.port}`,
      address,
      String(servicePort),
      String(KEEPALIVE_S),
      String(HEARTBEAT_MS),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`site ${id} exited with ${code}`)));
  });
  return { id, child, relay };
}

/** Polls every server every 5 ms from `t0` until each answers without `address`; ms per server. */
async function timeUntilGone(
  probe: DnsProbe,
  servers: Record<string, number>,
  subnet: string,
  address: string,
  t0: number,
  limitMs: number,
): Promise<Record<string, number | null>> {
  const out: Record<string, number | null> = {};
  const left = new Set(Object.keys(servers));
  while (left.size > 0 && Date.now() - t0 < limitMs) {
    await Promise.all(
      [...left].map(async (name) => {
        const a = await probe.query(servers[name], NAME, subnet, 200);
        if (a && a.rcode === 'NOERROR' && a.addresses.length > 0 && !a.addresses.includes(address) && left.has(name)) {
          out[name] = Date.now() - t0;
          left.delete(name);
        }
      }),
    );
    await new Promise((r) => setTimeout(r, 5));
  }
  for (const name of left) out[name] = null;
  return out;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-bench-router-'));
  const stops: (() => Promise<void> | void)[] = [() => rmSync(dir, { recursive: true, force: true })];
  const cleanup = async () => {
    for (const stop of stops.splice(0)) {
      try {
        await stop();
      } catch (err) {
        log(`cleanup: ${errorMessage(err)}`);
      }
    }
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void cleanup().then(() => process.exit(130)));
  const quiet = pino({ level: 'silent' });
  const loadStart = loadavg();
  try {
    // One geo database for all: client subnets and site addresses (pickclosest looks those up too).
    const geoDb = join(dir, 'city.mmdb');
    writeFileSync(
      geoDb,
      writeMmdb(
        sites.flatMap((s) => [
          { cidr: s.subnet, data: cityRecord(s.id, 'XX', s.lat, s.lon) },
          { cidr: `${s.address}/32`, data: cityRecord(s.id, 'XX', s.lat, s.lon) },
        ]),
        { databaseType: 'GeoLite2-City' },
      ),
    );

    // The hub side: broker, health model, SitesView, monitor, router.
    const password = 'bench-site-secret';
    const broker = await startBroker({ auth: { authenticate: (u, p) => (p === password ? { siteId: u } : null), isRevoked: () => false }, logger: quiet });
    stops.unshift(() => broker.close());
    const servicePort = await freePort('127.1.0.1');
    log('starting simulated sites');
    const procs = new Map<string, SiteProc>();
    for (const s of sites) {
      procs.set(s.id, await startSite(s.id, password, broker.port, s.address, servicePort));
      log(`site ${s.id} up`);
    }
    stops.unshift(async () => {
      for (const p of procs.values()) {
        p.child.kill('SIGKILL');
        await p.relay.close();
      }
    });
    const health = createHealthModel({ heartbeatIntervalMs: HEARTBEAT_MS });
    const records: SiteRecord[] = sites.map((s) => ({
      id: s.id,
      name: s.id,
      labels: {},
      lat: s.lat,
      lon: s.lon,
      clientCidrs: [],
      capacity: 100,
      draining: false,
      services: [{ name: 'pos', addresses: [s.address], url: `https://${s.id}.example.net/` }],
    }));
    const view = createSitesView({ listSites: () => records, health });
    stops.unshift(() => view.close());
    const monitor = await startHealthMonitor({ client: await broker.hubClient(), health, sessions: broker.sessions, logger: quiet });
    stops.unshift(() => monitor.close());
    const router = await startRouter({
      sites: view,
      zone: ZONE,
      dns: { port: 0 },
      ttl: TTL,
      geoDbPath: geoDb,
      defaultLocation: { lat: sites[0].lat, lon: sites[0].lon },
      logger: quiet,
    });
    stops.unshift(() => router.close());
    // The same router on every core: one DNS process per core on one port, fed the same view.
    const routerN = await startRouter({
      sites: view,
      zone: ZONE,
      dns: { port: 0, workers: 0 },
      ttl: TTL,
      geoDbPath: geoDb,
      defaultLocation: { lat: sites[0].lat, lon: sites[0].lon },
      logger: quiet,
    });
    stops.unshift(() => routerN.close());
    const knot = await startKnot({ dir, port: await freePort('127.0.0.1'), zone: ZONE, name: NAME, address: sites[0].address, ttl: TTL });
    stops.unshift(() => knot.stop());

    const pdnsDefault = await startPdns({
      dir,
      port: await freePort('127.0.0.1'),
      zone: ZONE,
      service: 'pos',
      geoDb,
      sites,
      servicePort,
      ttl: TTL,
      luaRecords: 'yes',
    });
    stops.unshift(() => pdnsDefault.stop());
    const pdnsShared = await startPdns({
      dir,
      port: await freePort('127.0.0.1'),
      zone: ZONE,
      service: 'pos',
      geoDb,
      sites,
      servicePort,
      ttl: TTL,
      luaRecords: 'shared',
    });
    stops.unshift(() => pdnsShared.stop());
    // Servers that steer (every check below); Knot, static, only in the throughput and latency runs.
    const servers: Record<string, number> = {
      weft: router.dns.port,
      'weft-workers': routerN.dns.port,
      powerdns: pdnsDefault.port,
      'powerdns-shared': pdnsShared.port,
    };
    const allServers: Record<string, number> = { ...servers, knot: knot.port };
    // CPU seconds used so far by each server's processes. Weft with one worker runs in this process
    // (with the broker, the health model and dnsperf's bookkeeping: an upper bound for its DNS thread).
    const workerPids = descendants(process.pid, 'dns-worker.mjs');
    const cpuOf: Record<string, () => number> = {
      weft: () => {
        const u = process.cpuUsage();
        return (u.user + u.system) / 1e6;
      },
      'weft-workers': () => cpuSeconds(workerPids),
      powerdns: () => cpuSeconds([pdnsDefault.pid]),
      'powerdns-shared': () => cpuSeconds([pdnsShared.pid]),
      knot: () => cpuSeconds([knot.pid]),
    };
    const labels: Record<string, string> = {
      weft: 'Weft, 1 DNS worker (thread)',
      'weft-workers': `Weft, ${routerN.dnsWorkers} DNS workers (processes)`,
      powerdns: 'PowerDNS LUA (default)',
      'powerdns-shared': 'PowerDNS LUA shared',
      knot: 'Knot DNS, static A record (ceiling)',
    };
    const probe = new DnsProbe();
    stops.unshift(() => probe.close());

    // All must give each client subnet its own city's site before anything is timed. PowerDNS
    // answers from all addresses until its first ifportup round has run.
    log('waiting until every server sends every subnet to its nearest site');
    const agreeDeadline = Date.now() + 30_000;
    const agreement: Record<string, Record<string, string[]>> = Object.fromEntries(Object.keys(servers).map((k) => [k, {}]));
    for (;;) {
      let ok = true;
      for (const [name, port] of Object.entries(servers)) {
        for (const s of sites) {
          const a = await probe.query(port, NAME, s.subnet);
          agreement[name][s.subnet] = a?.addresses ?? [];
          if (a?.addresses.join() !== s.address) ok = false;
        }
      }
      if (ok) break;
      if (Date.now() > agreeDeadline) throw new Error(`servers do not agree on the nearest sites: ${JSON.stringify(agreement)}`);
      await new Promise((r) => setTimeout(r, 500));
    }

    // 1. dnsperf, interleaved so load on the machine hits all alike. A server still working off the
    // queue of its own run must not steal the next server's CPU: wait until it answers promptly.
    const drained = async (port: number) => {
      const until = Date.now() + 20_000;
      while (Date.now() < until) {
        const a = await probe.query(port, NAME, null, 2000);
        if (a && a.rttMs < 20) return;
        await new Promise((r) => setTimeout(r, 200));
      }
      log(`server on port ${port} still slow 20 s after its dnsperf run`);
    };
    // While Weft is measured, one site's health changes every second, through the health model the
    // broker's heartbeats feed (a failing check takes it down at once, two good heartbeats bring it
    // back): every change empties the cached answers of its service, so they are rebuilt under load.
    const FLAPPER = 'warsaw';
    const heartbeat = (ok: boolean): HeartbeatMessage => ({
      v: 1,
      at: new Date().toISOString(),
      nodeReady: true,
      enforcing: true,
      appliedGeneration: 0,
      checks: [{ name: 'pos', ok }],
      load: 0.1,
      link: { reconnects: 0, outboxDepth: 0, outboxLost: 0 },
    });
    const flap = () => {
      let changes = 0;
      const onEvent = (e: { siteId: string }) => {
        if (e.siteId === FLAPPER) changes++;
      };
      health.on('event', onEvent);
      const timer = setInterval(() => {
        const up = health.get(FLAPPER)?.health === 'online';
        for (let i = 0; i < (up ? 1 : health.config.upAfter); i++) health.apply(FLAPPER, { type: 'heartbeat', heartbeat: heartbeat(!up), at: Date.now() });
      }, 1000);
      return () => {
        clearInterval(timer);
        health.off('event', onEvent);
        for (let i = 0; i < health.config.upAfter; i++) health.apply(FLAPPER, { type: 'heartbeat', heartbeat: heartbeat(true), at: Date.now() });
        return changes;
      };
    };
    const perf: PerfRun[] = [];
    for (let run = 1; run <= REPEATS; run++) {
      for (const mode of ['no ECS (located by source address)', `ECS ${sites[1].subnet}`]) {
        for (const [name, port] of Object.entries(allServers)) {
          log(`dnsperf ${name}, ${mode}, run ${run}`);
          const load1 = loadavg()[0];
          const stopFlapping = name.startsWith('weft') ? flap() : null;
          const cpu0 = cpuOf[name]();
          const r = await dnsperf(dir, port, NAME, {
            seconds: DNSPERF_S,
            subnet: mode.startsWith('ECS') ? sites[1].subnet : null,
            clients: DNSPERF_CLIENTS,
            outstanding: DNSPERF_OUTSTANDING,
          });
          const cpuUsPerQuery = r.completed > 0 ? Math.round(((cpuOf[name]() - cpu0) * 1e7) / r.completed) / 10 : null;
          const healthChanges = stopFlapping ? stopFlapping() : 0;
          perf.push({ server: name, mode, run, load1, r, healthChanges, cpuUsPerQuery });
          await drained(port);
        }
      }
    }

    // 2. Unloaded latency: sequential queries, one outstanding.
    const latency: RouterResults['latency'] = {};
    for (const [name, port] of Object.entries(allServers)) {
      const rtts: number[] = [];
      for (let i = 0; i < 2000; i++) {
        const a = await probe.query(port, NAME, sites[i % sites.length].subnet);
        if (a) rtts.push(a.rttMs);
      }
      latency[name] = { p50: percentile(rtts, 50), p99: percentile(rtts, 99), max: Math.max(...rtts), n: rtts.length };
    }

    // 3. HTTP redirects.
    log('autocannon /go/pos');
    const app = Fastify({ trustProxy: true, logger: false });
    await app.register(routerRoutes, { router });
    await app.listen({ port: 0, host: '127.0.0.1' });
    stops.unshift(() => app.close());
    const httpPort = (app.server.address() as { port: number }).port;
    const HTTP_CONNECTIONS = 50;
    const HTTP_S = 10;
    const http = await autocannon({
      url: `http://127.0.0.1:${httpPort}/go/pos/menu?lang=fr`,
      connections: HTTP_CONNECTIONS,
      duration: HTTP_S,
      headers: { 'x-forwarded-for': '100.64.3.7' },
    });
    await app.close();

    // 4. kill -9: three sites, one after another; the client subnet of each is polled on every server.
    const kills: RouterResults['kills'] = [];
    for (const victim of [sites[0], sites[1], sites[2]]) {
      log(`kill -9 site ${victim.id}`);
      const p = procs.get(victim.id) as SiteProc;
      const t0 = Date.now();
      p.child.kill('SIGKILL');
      kills.push({ site: victim.id, ms: await timeUntilGone(probe, servers, victim.subnet, victim.address, t0, 60_000) });
    }

    // 5. Silent cut of the MQTT link (no FIN, no RST): the broker notices at 1.5 x keepalive.
    const cuts: RouterResults['cuts'] = [];
    for (const victim of [sites[3], sites[4]]) {
      log(`silent cut of site ${victim.id}'s MQTT link`);
      const p = procs.get(victim.id) as SiteProc;
      const t0 = Date.now();
      p.relay.cut();
      const t = await timeUntilGone(probe, { weft: router.dns.port }, victim.subnet, victim.address, t0, 30_000);
      cuts.push({ site: victim.id, weftMs: t.weft, boundMs: 1.5 * KEEPALIVE_S * 1000 });
    }

    const results: RouterResults = {
      labels,
      perf,
      latency,
      http: {
        requestsPerSec: http.requests.average,
        p50: http.latency.p50,
        p99: http.latency.p99,
        status3xx: http['3xx'],
        other: http['1xx'] + http['2xx'] + http['4xx'] + http['5xx'],
        errors: http.errors,
        connections: HTTP_CONNECTIONS,
        seconds: HTTP_S,
      },
      kills,
      cuts,
      config: {
        ttl: TTL,
        keepaliveS: KEEPALIVE_S,
        heartbeatMs: HEARTBEAT_MS,
        dnsperfSeconds: DNSPERF_S,
        repeats: REPEATS,
        pdnsCheckIntervalS: pdnsDefault.checkIntervalS,
        clients: DNSPERF_CLIENTS,
        outstanding: DNSPERF_OUTSTANDING,
        // dnsperf sends from 127.0.0.1: RRL is on (the default) and loopback is exempt from it.
        rrl: router.config.limits.rrl,
        udpBufferBytes: UDP_BUFFER_BYTES,
        dnsWorkerPids: workerPids.length,
      },
      loadAverage: { start: loadStart, end: loadavg() },
    };
    writeReport({
      name: 'router',
      title: 'Router: Weft vs PowerDNS LUA records (pickclosest + ifportup), and Knot DNS as the ceiling',
      method: `npm run bench:router. Same zone (${ZONE}), ${sites.length} sites (127.1.0.x, TCP service port for ifportup), same MaxMind-format geo database (built by the bench) and client subnets, all servers on 127.0.0.1 in the same run. Weft: startRouter fed by the hub's real aedes broker + health model; sites are child processes holding MQTT sessions with a last will. PowerDNS ${pdnsVersion()} (Debian) with bind + geoip backends and LUA records (ifportup with selector pickclosest), twice: LUA records at their default and in shared mode; default settings otherwise. Knot DNS ${knotVersion()} (Debian) serving ${NAME} as one static A record, its defaults otherwise (one UDP worker per core): the ceiling. Weft twice: one DNS worker thread (the hub's default) and one DNS process per core (${availableParallelism()} here, weft-router's default), both fed by the same SitesView.`,
      markdown: routerMarkdown(results),
      results: { ...results, agreement },
    });
    log('done: bench/results/router.json, docs/benchmarks.md');
  } finally {
    await cleanup();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:router failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
