// The router benchmark's section of docs/benchmarks.md, from its results: every number in the
// tables comes from bench/results/router.json, nothing is typed in by hand.
import { median, table } from '../lib/report.ts';
import type { DnsperfResult } from './dnsperf.ts';

export interface PerfRun {
  server: string;
  mode: string;
  run: number;
  /** 1-minute load average just before the run. */
  load1: number;
  r: DnsperfResult;
  /** Health changes of a site during the run (Weft runs: one a second). */
  healthChanges?: number;
  /** CPU time (user + system) of the server's processes per answered query, in µs. */
  cpuUsPerQuery?: number | null;
}

export interface RouterResults {
  labels: Record<string, string>;
  perf: PerfRun[];
  latency: Record<string, { p50: number; p99: number; max: number; n: number }>;
  http: { requestsPerSec: number; p50: number; p99: number; status3xx: number; other: number; errors: number; connections: number; seconds: number };
  kills: { site: string; ms: Record<string, number | null> }[];
  cuts: { site: string; weftMs: number | null; boundMs: number }[];
  config: {
    ttl: number;
    keepaliveS: number;
    heartbeatMs: number;
    dnsperfSeconds: number;
    repeats: number;
    pdnsCheckIntervalS: number;
    clients: number;
    outstanding: number;
    rrl?: { responsesPerSecond: number; slip: number; exempt: string[] } | null;
    udpBufferBytes?: number;
    dnsWorkerPids?: number;
  };
  loadAverage: { start: number[]; end: number[] };
}

const fmt = (v: number | null) => (v === null ? 'not within limit' : `${v} ms`);
const known = (xs: (number | null)[]) => xs.flatMap((x) => (x === null ? [] : [x]));
const cpuMedian = (runs: PerfRun[]) => {
  const xs = known(runs.map((p) => p.cpuUsPerQuery ?? null));
  return xs.length ? median(xs).toFixed(1) : '-';
};

/** Each server's median CPU µs per query, and how many times Knot's that is. */
function cpuLine(r: RouterResults): string {
  const of = (server: string) => {
    const xs = known(r.perf.filter((p) => p.server === server).map((p) => p.cpuUsPerQuery ?? null));
    return xs.length ? median(xs) : null;
  };
  const knot = of('knot');
  return Object.keys(r.labels)
    .flatMap((s) => {
      const v = of(s);
      return v === null ? [] : [`${r.labels[s]} ${v.toFixed(1)} µs${knot && s !== 'knot' ? ` (${(v / knot).toFixed(1)} x Knot)` : ''}`];
    })
    .join(', ');
}

export function routerMarkdown(r: RouterResults): string {
  const servers = Object.keys(r.labels);
  // Failover and cuts are for servers that steer: Knot's static answer never leaves a site out.
  const steering = servers.filter((s) => r.kills.every((k) => s in k.ms));
  const modes = [...new Set(r.perf.map((p) => p.mode))];
  const qpsOf = (server: string, mode: string) => median(r.perf.filter((p) => p.server === server && p.mode === mode).map((p) => p.r.qps));
  const perfRows = modes.flatMap((mode) =>
    servers.map((server) => {
      const runs = r.perf.filter((p) => p.server === server && p.mode === mode);
      const rs = runs.map((p) => p.r);
      const knot = r.perf.some((p) => p.server === 'knot') ? qpsOf('knot', mode) : null;
      return [
        r.labels[server],
        mode,
        Math.round(median(rs.map((x) => x.qps))),
        knot ? `${Math.round((100 * qpsOf(server, mode)) / knot)} %` : '-',
        rs.map((x) => x.qps).join(' / '),
        median(rs.map((x) => x.avgLatencyMs)).toFixed(2),
        Math.max(...rs.map((x) => x.maxLatencyMs)).toFixed(1),
        rs.reduce((a, x) => a + x.lost, 0),
        cpuMedian(runs),
        runs.map((p) => p.healthChanges ?? 0).join(' / '),
        runs.map((p) => p.load1.toFixed(1)).join(' / '),
      ];
    }),
  );
  const weftQps = median(r.perf.filter((p) => p.server === 'weft').map((p) => p.r.qps));
  const workers = r.perf.filter((p) => p.server === 'weft-workers');
  const knotQps = median(r.perf.filter((p) => p.server === 'knot').map((p) => p.r.qps));
  const workersShare = knotQps ? median(workers.map((p) => p.r.qps)) / knotQps : 0;
  const workersLost = workers.reduce((a, p) => a + p.r.lost, 0);
  const weftRuns = r.perf.filter((p) => p.server === 'weft');
  const weftShare = knotQps ? weftQps / knotQps : 0;
  const weftLost = weftRuns.reduce((a, p) => a + p.r.lost, 0);
  const c = r.config;
  const rrl = c.rrl;
  const killMedian = (s: string) => median(known(r.kills.map((k) => k.ms[s] ?? null)));
  return [
    '### DNS throughput (dnsperf)',
    '',
    table(
      [
        'server',
        'queries',
        'QPS (median)',
        'of Knot',
        'QPS per run',
        'avg latency ms',
        'max latency ms',
        'lost',
        'CPU µs per query',
        'health changes per run',
        'load avg (1 min) before each run',
      ],
      perfRows,
    ),
    '',
    `dnsperf ${c.dnsperfSeconds} s per run, ${c.clients} clients, ${c.outstanding} outstanding, ${c.repeats} runs per server and mode, servers interleaved; before each run the previous server is given time to drain its queue. During every Weft run one site's health changes every second (a failing check, then two good heartbeats, into the health model the broker feeds), and each change empties the cached answers of its service. Goal: Weft on every core at >= 75 % of Knot's QPS with 0 queries lost, ECS or not. This run, median over modes and runs: Weft on every core ${Math.round(100 * workersShare)} % of Knot, ${workersLost} lost: ${workersShare >= 0.75 && workersLost === 0 ? 'met' : 'not met'}; Weft with one worker thread ${Math.round(weftQps)} QPS, ${Math.round(100 * weftShare)} % of Knot, ${weftLost} lost.`,
    '',
    `CPU time per answered query, median over runs and modes: ${cpuLine(r)}.`,
    '',
    `Response rate limiting stays on as shipped (${rrl ? `${rrl.responsesPerSecond} answers/s per /24 and name, slip ${rrl.slip}, exempt ${rrl.exempt.join(', ')}` : 'off'}); dnsperf sends from 127.0.0.1, which is exempt, so no benchmark query is limited. Weft asks for ${c.udpBufferBytes ? `${c.udpBufferBytes >> 20} MiB` : 'default'} UDP socket buffers. "CPU µs per query": user + system time of the server's processes during the run over the queries answered (Weft with one worker is this whole bench process, broker and health model included: an upper bound); steadier than QPS on a shared machine.`,
    '',
    'PowerDNS "default" is `enable-lua-records=yes`, what a user gets: a fresh Lua state for every query. "shared" is `enable-lua-records=shared`, PowerDNS\'s documented speed-up (one Lua state per thread). Neither is helped by the packet cache: answers that depend on the client address (pickclosest) are not cached. Weft and dnsperf run on the same 2 cores, as does everything else on this shared machine, so these are lower bounds.',
    '',
    '### DNS latency, one query outstanding (own UDP probe, 2000 queries over the 8 client subnets)',
    '',
    table(
      ['server', 'p50 ms', 'p99 ms', 'max ms'],
      servers.map((s) => [r.labels[s], r.latency[s].p50.toFixed(3), r.latency[s].p99.toFixed(3), r.latency[s].max.toFixed(2)]),
    ),
    '',
    `### HTTP redirects (autocannon, ${r.http.connections} connections, ${r.http.seconds} s, GET /go/pos/menu?lang=fr)`,
    '',
    table(
      ['server', 'redirects/s (mean)', 'p50 ms', 'p99 ms', '302s', 'other', 'errors'],
      [['Weft (fastify, in the bench process)', Math.round(r.http.requestsPerSec), r.http.p50, r.http.p99, r.http.status3xx, r.http.other, r.http.errors]],
    ),
    '',
    'PowerDNS has no HTTP redirect; nothing to compare with.',
    '',
    '### Failover: kill -9 of a site -> first DNS answer that leaves it out',
    '',
    table(
      ['site', ...steering.map((s) => r.labels[s])],
      r.kills.map((k) => [k.site, ...steering.map((s) => fmt(k.ms[s] ?? null))]),
    ),
    '',
    `Median: ${steering.map((s) => `${r.labels[s]} ${killMedian(s)} ms`).join(', ')}. Target for Weft: < 1 s. PowerDNS's ifportup checks run every ${c.pdnsCheckIntervalS} s (its default), so it notices a dead site somewhere within that interval.`,
    "Weft: the killed process's TCP session closes at once; the broker publishes its last will and reports the session down, the health model marks the site offline and the router drops it from the next answer (the answer caches are emptied inside the health event).",
    '',
    `### Silent network cut of a site's MQTT link (keepalive ${c.keepaliveS} s)`,
    '',
    table(
      ['site', 'Weft: time until dropped', 'bound 1.5 x keepalive'],
      r.cuts.map((x) => [x.site, fmt(x.weftMs), `${x.boundMs} ms`]),
    ),
    '',
    "The relay between the site and the broker stops forwarding without closing (no FIN/RST): only the broker's keepalive timeout (1.5 x keepalive after the last packet it received) can notice. PowerDNS was not put through a silent cut: its ifportup check would see a silently dropped port only after its connect timeout, on top of the check interval.",
    '',
    `Load average (1, 5, 15 min): ${r.loadAverage.start.map((x) => x.toFixed(2)).join(', ')} at the start, ${r.loadAverage.end.map((x) => x.toFixed(2)).join(', ')} at the end. This machine is shared (2 cores) with other work; absolute numbers vary from run to run.`,
  ].join('\n');
}
