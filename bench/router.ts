// npm run bench:router — Weft's router against PowerDNS with LUA records (pickclosest + ifportup),
// same zone, sites, geo database and client subnets, in one run:
//   1. DNS QPS and latency with dnsperf (with and without EDNS Client Subnet), both servers;
//   2. unloaded latency percentiles from our own probe;
//   3. HTTP redirects per second with autocannon (Weft only: PowerDNS has no HTTP redirect);
//   4. failover: kill -9 a site -> first DNS answer leaving it out, both servers;
//   5. silent network cut of a site's MQTT link -> first answer leaving it out, vs 1.5 x keepalive.
// Weft runs as the hub runs it: the real aedes broker (hub/broker), health model and SitesView
// (hub/health) feeding the router; sites are child processes holding MQTT sessions with a last will.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import pino from 'pino';
import { startBroker } from '../hub/broker/index.ts';
import { createHealthModel, createSitesView, startHealthMonitor, type SiteRecord } from '../hub/health/index.ts';
import { routerRoutes, startRouter } from '../hub/router/index.ts';
import { cityRecord, writeMmdb } from '../hub/router/testing/mmdb-writer.ts';
import { machine, median, percentile, table, writeReport } from './lib/report.ts';
import { DnsProbe } from './router/dns-probe.ts';
import { dnsperf, type DnsperfResult } from './router/dnsperf.ts';
import { startPdns } from './router/pdns.ts';
import { startRelay, type Relay } from './router/relay.ts';

const here = dirname(fileURLToPath(import.meta.url));
const ZONE = 'svc.bench.example';
const NAME = `pos.${ZONE}`;
const TTL = 10;
const KEEPALIVE_S = 5;
const HEARTBEAT_MS = 5000;
const DNSPERF_S = 10;
const REPEATS = 2;
const log = (m: string) => process.stderr.write(`bench:router: ${m}\n`);

const CITIES = [
  ['paris', 48.8566, 2.3522], ['berlin', 52.52, 13.405], ['madrid', 40.4168, -3.7038], ['lyon', 45.764, 4.8357],
  ['london', 51.5072, -0.1276], ['rome', 41.9028, 12.4964], ['warsaw', 52.2297, 21.0122], ['nyc', 40.7128, -74.006],
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
  const child = spawn(process.execPath, [join(here, '..', 'bin', 'run.mjs'), join(here, 'router', 'site-process.ts'), id, password, `mqtt://127.0.0.1:${relay.port}`, address, String(servicePort), String(KEEPALIVE_S), String(HEARTBEAT_MS)], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve(); });
    child.once('exit', (code) => reject(new Error(`site ${id} exited with ${code}`)));
  });
  return { id, child, relay };
}

/** Polls both servers every 5 ms from `t0` until each answers without `address`; ms per server. */
async function timeUntilGone(probe: DnsProbe, servers: Record<string, number>, subnet: string, address: string, t0: number, limitMs: number): Promise<Record<string, number | null>> {
  const out: Record<string, number | null> = {};
  const left = new Set(Object.keys(servers));
  while (left.size > 0 && Date.now() - t0 < limitMs) {
    await Promise.all([...left].map(async (name) => {
      const a = await probe.query(servers[name], NAME, subnet, 200);
      if (a && a.rcode === 'NOERROR' && a.addresses.length > 0 && !a.addresses.includes(address) && left.has(name)) {
        out[name] = Date.now() - t0;
        left.delete(name);
      }
    }));
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
        log(`cleanup: ${(err as Error).message}`);
      }
    }
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void cleanup().then(() => process.exit(130)));
  const quiet = pino({ level: 'silent' });
  try {
    // One geo database for both: client subnets and site addresses (pickclosest looks those up too).
    const geoDb = join(dir, 'city.mmdb');
    writeFileSync(geoDb, writeMmdb(sites.flatMap((s) => [
      { cidr: s.subnet, data: cityRecord(s.id, 'XX', s.lat, s.lon) },
      { cidr: `${s.address}/32`, data: cityRecord(s.id, 'XX', s.lat, s.lon) },
    ]), { databaseType: 'GeoLite2-City' }));

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
      id: s.id, name: s.id, labels: {}, lat: s.lat, lon: s.lon, clientCidrs: [], capacity: 100, draining: false,
      services: [{ name: 'pos', addresses: [s.address], url: `https://${s.id}.example.net/` }],
    }));
    const view = createSitesView({ listSites: () => records, health });
    stops.unshift(() => view.close());
    const monitor = await startHealthMonitor({ client: await broker.hubClient(), health, sessions: broker.sessions, logger: quiet });
    stops.unshift(() => monitor.close());
    const router = await startRouter({ sites: view, zone: ZONE, dns: { port: 0 }, ttl: TTL, geoDbPath: geoDb, defaultLocation: { lat: sites[0].lat, lon: sites[0].lon }, logger: quiet });
    stops.unshift(() => router.close());

    const pdnsPort = await freePort('127.0.0.1');
    const pdns = await startPdns({ dir, port: pdnsPort, zone: ZONE, service: 'pos', geoDb, sites, servicePort, ttl: TTL });
    stops.unshift(() => pdns.stop());
    const servers = { weft: router.dns.port, powerdns: pdns.port };
    const probe = new DnsProbe();
    stops.unshift(() => probe.close());

    // Both must give each client subnet its own city's site before anything is timed. PowerDNS
    // answers from all addresses until its first ifportup round has run.
    log('waiting until both servers send every subnet to its nearest site');
    const agreeDeadline = Date.now() + 30_000;
    const agreement: Record<string, Record<string, string[]>> = { weft: {}, powerdns: {} };
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

    // 1. dnsperf, interleaved so load on the machine hits both alike.
    const perf: { server: string; mode: string; run: number; r: DnsperfResult }[] = [];
    for (let run = 1; run <= REPEATS; run++) {
      for (const mode of ['no ECS (located by source address)', `ECS ${sites[1].subnet}`]) {
        for (const [name, port] of Object.entries(servers)) {
          log(`dnsperf ${name}, ${mode}, run ${run}`);
          const r = await dnsperf(dir, port, NAME, { seconds: DNSPERF_S, subnet: mode.startsWith('ECS') ? sites[1].subnet : null });
          perf.push({ server: name, mode, run, r });
        }
      }
    }

    // 2. Unloaded latency: sequential queries, one outstanding.
    const latency: Record<string, { p50: number; p99: number; max: number; n: number }> = {};
    for (const [name, port] of Object.entries(servers)) {
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
    const http = await autocannon({ url: `http://127.0.0.1:${httpPort}/go/pos/menu?lang=fr`, connections: 50, duration: 10, headers: { 'x-forwarded-for': '100.64.3.7' } });
    await app.close();

    // 4. kill -9: three sites, one after another; the client subnet of each is polled on both servers.
    const kills: { site: string; weftMs: number | null; powerdnsMs: number | null }[] = [];
    for (const victim of [sites[0], sites[1], sites[2]]) {
      log(`kill -9 site ${victim.id}`);
      const p = procs.get(victim.id) as SiteProc;
      const t0 = Date.now();
      p.child.kill('SIGKILL');
      const t = await timeUntilGone(probe, servers, victim.subnet, victim.address, t0, 60_000);
      kills.push({ site: victim.id, weftMs: t.weft, powerdnsMs: t.powerdns });
    }

    // 5. Silent cut of the MQTT link (no FIN, no RST): the broker notices at 1.5 x keepalive.
    const cuts: { site: string; weftMs: number | null; boundMs: number }[] = [];
    for (const victim of [sites[3], sites[4]]) {
      log(`silent cut of site ${victim.id}'s MQTT link`);
      const p = procs.get(victim.id) as SiteProc;
      const t0 = Date.now();
      p.relay.cut();
      const t = await timeUntilGone(probe, { weft: router.dns.port }, victim.subnet, victim.address, t0, 30_000);
      cuts.push({ site: victim.id, weftMs: t.weft, boundMs: 1.5 * KEEPALIVE_S * 1000 });
    }

    const m = machine();
    const byServer = (server: string, mode: string) => perf.filter((p) => p.server === server && p.mode === mode);
    const modes = [...new Set(perf.map((p) => p.mode))];
    const perfRows = modes.flatMap((mode) => Object.keys(servers).map((server) => {
      const rs = byServer(server, mode).map((p) => p.r);
      return [server === 'weft' ? 'Weft' : 'PowerDNS LUA', mode, Math.round(median(rs.map((r) => r.qps))), rs.map((r) => r.qps).join(' / '), median(rs.map((r) => r.avgLatencyMs)).toFixed(2), Math.max(...rs.map((r) => r.maxLatencyMs)).toFixed(1), rs.reduce((a, r) => a + r.lost, 0)];
    }));
    const fmt = (v: number | null) => (v === null ? 'not within limit' : `${v} ms`);
    const markdown = [
      '### DNS throughput (dnsperf)',
      '',
      table(['server', 'queries', 'QPS (median)', 'QPS per run', 'avg latency ms', 'max latency ms', 'lost'], perfRows),
      '',
      `dnsperf ${DNSPERF_S} s per run, 4 clients, 200 outstanding, ${REPEATS} runs each, interleaved Weft/PowerDNS. Target: Weft >= 40k QPS and ahead of PowerDNS.`,
      '',
      '### DNS latency, one query outstanding (own UDP probe, 2000 queries over the 8 client subnets)',
      '',
      table(['server', 'p50 ms', 'p99 ms', 'max ms'], Object.entries(latency).map(([k, v]) => [k === 'weft' ? 'Weft' : 'PowerDNS LUA', v.p50.toFixed(3), v.p99.toFixed(3), v.max.toFixed(2)])),
      '',
      '### HTTP redirects (autocannon, 50 connections, 10 s, GET /go/pos/menu?lang=fr)',
      '',
      table(['server', 'redirects/s (mean)', 'p50 ms', 'p99 ms', '302s', 'other', 'errors'], [['Weft', Math.round(http.requests.average), http.latency.p50, http.latency.p99, http['3xx'], http['1xx'] + http['2xx'] + http['4xx'] + http['5xx'], http.errors]]),
      '',
      'PowerDNS has no HTTP redirect; nothing to compare with.',
      '',
      '### Failover: kill -9 of a site -> first DNS answer that leaves it out',
      '',
      table(['site', 'Weft', 'PowerDNS LUA (ifportup)'], kills.map((k) => [k.site, fmt(k.weftMs), fmt(k.powerdnsMs)])),
      '',
      `Median: Weft ${median(kills.flatMap((k) => (k.weftMs === null ? [] : [k.weftMs])))} ms, PowerDNS ${median(kills.flatMap((k) => (k.powerdnsMs === null ? [] : [k.powerdnsMs])))} ms (ifportup checks every ${pdns.checkIntervalS} s by default; its packet cache may hold the answer longer). Target for Weft: < 1 s.`,
      'Weft: the killed process\'s TCP session closes at once; the broker publishes its last will and reports the session down, the health model marks the site offline and the router drops it from the next answer.',
      '',
      `### Silent network cut of a site's MQTT link (keepalive ${KEEPALIVE_S} s)`,
      '',
      table(['site', 'Weft: time until dropped', 'bound 1.5 x keepalive'], cuts.map((c) => [c.site, fmt(c.weftMs), `${c.boundMs} ms`])),
      '',
      'The relay between the site and the broker stops forwarding without closing (no FIN/RST): only the broker\'s keepalive timeout can notice. PowerDNS was not put through a silent cut: its ifportup check would see a silently dropped port only after its connect timeout, on top of the check interval.',
      '',
      `Load note: this machine is shared (${m.cpus} cores); dnsperf, the server under test and everything else compete for the same cores, so absolute QPS varies from run to run.`,
    ].join('\n');
    writeReport({
      name: 'router',
      title: 'Router: Weft vs PowerDNS LUA records (pickclosest + ifportup)',
      method: `npm run bench:router. Same zone (${ZONE}), ${sites.length} sites (127.1.0.x, TCP service port for ifportup), same MaxMind-format geo database (built by the bench) and client subnets, both servers on 127.0.0.1 in the same run. Weft: startRouter fed by the hub's real aedes broker + health model; sites are child processes holding MQTT sessions with a last will. PowerDNS ${'4.7'} with bind + geoip backends and LUA records, default settings otherwise.`,
      markdown,
      results: { perf, latency, http: { requestsPerSec: http.requests.average, latency: http.latency, status3xx: http['3xx'], non2xx: http.non2xx, errors: http.errors }, kills, cuts, agreement, config: { ttl: TTL, keepaliveS: KEEPALIVE_S, heartbeatMs: HEARTBEAT_MS, dnsperfSeconds: DNSPERF_S, repeats: REPEATS, pdnsCheckIntervalS: pdns.checkIntervalS } },
    });
    log('done: bench/results/router.json, docs/benchmarks.md');
  } finally {
    await cleanup();
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`bench:router failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
