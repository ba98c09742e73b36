// The attackers of bench:abuse, in a process of their own (as attackers are on machines of their
// own: their 64 MB buffers and TLS work must not be billed to the hub's process). Runs the issue's
// attacks until SIGTERM, then prints what each did as JSON on stdout.
// Usage: node bin/run.mjs bench/abuse/attackers.ts <target.json>
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { connect as mqttConnect } from 'mqtt';
import { mqttConnect as rawConnect, mqttLength, openTcp } from '../../hub/testing/index.ts';
import { topics } from '../../protocol/index.ts';

export interface Target {
  hubUrl: string;
  caCertPem: string;
  brokerPort: number;
  brokerUrl: string;
  site: { siteId: string; username: string; password: string };
  dnsPort: number;
  /** Only these attacks (api, broker, site, tcpdns); all when absent. */
  only?: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Counts what each abuser did, for the report. */
const tally: Record<string, number> = {};
const count = (k: string) => {
  tally[k] = (tally[k] ?? 0) + 1;
};

/** Runs `fn` in `n` loops until stop() is called. */
function loops(n: number, fn: () => Promise<void>) {
  let running = true;
  const all = Array.from({ length: n }, async () => {
    while (running) await fn().catch(() => count('client-error'));
  });
  return async () => {
    running = false;
    await Promise.all(all);
  };
}

function post(t: Target, path: string, body: string): Promise<number> {
  return new Promise((resolve) => {
    const req = https.request(`${t.hubUrl}${path}`, { method: 'POST', ca: t.caCertPem, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

function get(t: Target, path: string): Promise<number> {
  return new Promise((resolve) => {
    https
      .get(`${t.hubUrl}${path}`, { ca: t.caCertPem }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', () => resolve(0));
  });
}

/** The attacks, all at once. Returns a stop function. */
function abuse(t: Target) {
  const { site, dnsPort } = t;
  const depth = 1_400_000;
  const nested = `{"siteName":${'['.repeat(depth)}${']'.repeat(depth)}}`; // 2.8 MB of nesting
  const on = (k: string) => !t.only || t.only.includes(k);
  const stops = [
    // API: 3 MB deeply nested JSON bodies to the public enrollment route, and a flood of public GETs.
    loops(on('api') ? 4 : 0, async () => count(`api-enroll-${await post(t, '/v1/enroll', nested)}`)),
    loops(on('api') ? 4 : 0, async () => count(`api-ca-${await get(t, '/v1/ca')}`)),
    // Broker, unauthenticated: a CONNECT declaring 256 MB, then up to 3 x 250 MiB in 1 MiB chunks.
    loops(on('broker') ? 3 : 0, async () => {
      const s = await openTcp(t.brokerPort);
      s.on('error', () => undefined);
      s.write(Buffer.concat([Buffer.from([0x10]), mqttLength(0x0fffffff)]));
      const chunk = Buffer.alloc(1 << 20, 0x61);
      for (let i = 0; i < 750 && !s.destroyed; i++)
        if (!s.write(chunk)) await Promise.race([new Promise((r) => s.once('drain', r)), new Promise((r) => s.once('close', r))]);
      s.destroy();
      count('broker-huge-connect');
    }),
    // Broker, authenticated: the site publishes 64 MB on its own topic, reconnects, again.
    loops(on('site') ? 1 : 0, async () => {
      const c = mqttConnect(t.brokerUrl, { clientId: site.siteId, username: site.username, password: site.password, protocolVersion: 4, reconnectPeriod: 0 });
      c.on('error', () => undefined);
      await new Promise((r) => {
        c.once('connect', r);
        c.once('close', () => r(undefined));
      });
      c.publish(topics.events(site.siteId), Buffer.alloc(64 << 20, 0x62), { qos: 1 });
      await new Promise<void>((r) => c.once('close', () => r()));
      c.end(true);
      count('broker-site-64mb');
    }),
    // Broker: connections from one address past its cap (the raw CONNECT of a site that never finishes).
    loops(on('broker') ? 8 : 0, async () => {
      const s = await openTcp(t.brokerPort);
      s.on('error', () => undefined);
      s.write(rawConnect('x'));
      await Promise.race([sleep(5_000), new Promise((r) => s.once('close', r))]);
      s.destroy();
      count('broker-conn');
    }),
    // TCP DNS: 1 500 connections trickling one byte a second, reopened 1 s after each close.
    loops(on('tcpdns') ? 1_500 : 0, async () => {
      const s = await openTcp(dnsPort);
      s.on('error', () => undefined);
      count('dns-tcp-slot');
      while (!s.destroyed) {
        s.write(Buffer.from([0]));
        await Promise.race([sleep(1_000), new Promise((r) => s.once('close', r))]);
      }
      await sleep(1_000);
    }),
  ];
  return async () => {
    await Promise.all(stops.map((s) => s()));
  };
}

const target = JSON.parse(readFileSync(process.argv[2], 'utf8')) as Target;
const stop = abuse(target);
process.on('SIGTERM', () => {
  void stop().then(() => {
    process.stdout.write(`${JSON.stringify(tally)}\n`);
    process.exit(0);
  });
});
