// The DNS server under abuse, from outside: raw UDP and TCP clients and dig against a running router
// (issue 15, items 5, 6 and 9). Each test fails on the server before hardening.
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import dnsPacket from 'dns-packet';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig, type DnsLimitsOptions } from './config.ts';
import { DnsResolver } from './dns-resolver.ts';
import { startRouter, type Router } from './index.ts';
import { Routing } from './routing.ts';
import { dig, hasDig } from './testing/dig.ts';
import { MemorySitesView, site } from './testing/memory-sites-view.ts';
import { encodeQuery, RCODE_NAMES } from './testing/query.ts';

const ZONE = 'svc.example.com';
const digInstalled = hasDig('the DNS abuse tests');
const view = new MemorySitesView([
  site('paris', 48.8, 2.3, { services: [{ name: 'pos', addresses: ['192.0.2.1', '2001:db8::1'] }] }),
  site('berlin', 52.5, 13.4, { services: [{ name: 'pos', addresses: ['192.0.2.2', '2001:db8::2'] }] }),
]);
view.setMaxListeners(50);
const routers: Router[] = [];

async function router(limits: DnsLimitsOptions = {}): Promise<Router> {
  const r = await startRouter({ sites: view, zone: ZONE, dns: { host: '127.0.0.1', port: 0 }, limits, logger: pino({ level: 'silent' }) });
  routers.push(r);
  return r;
}

afterEach(async () => {
  for (const r of routers.splice(0)) await r.close();
});

/** Sends `msgs` from one UDP socket and collects what comes back within `ms`. */
function udpBurst(port: number, msgs: Buffer[], ms = 400): Promise<Buffer[]> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const got: Buffer[] = [];
    s.on('message', (m) => got.push(m));
    s.bind(0, '127.0.0.1', () => {
      for (const m of msgs) s.send(m, port, '127.0.0.1');
      setTimeout(() => {
        s.close();
        resolve(got);
      }, ms);
    });
  });
}

function tcpOpen(port: number, localAddress = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const c = connect({ port, host: '127.0.0.1', localAddress }, () => resolve(c));
    c.once('error', reject);
  });
}

/** One framed query over a fresh TCP connection; null if the server closes it without an answer. */
function tcpQuery(port: number, msg: Buffer, localAddress = '127.0.0.1'): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const c = connect({ port, host: '127.0.0.1', localAddress }, () => c.write(Buffer.concat([Buffer.from([msg.length >> 8, msg.length & 0xff]), msg])));
    let buf = Buffer.alloc(0);
    c.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        c.destroy();
        resolve(buf.subarray(2));
      }
    });
    c.on('error', () => resolve(null));
    c.on('close', () => resolve(null));
  });
}

const closedWithin = (c: Socket, ms: number) =>
  new Promise<boolean>((resolve) => {
    if (c.destroyed) return resolve(true);
    const t = setTimeout(() => resolve(false), ms);
    c.once('close', () => {
      clearTimeout(t);
      resolve(true);
    });
  });

/** A query with the given raw labels (bytes as latin1), so labels may hold dots and any byte. */
function rawQuery(id: number, labels: string[], qtype = 1): Buffer {
  const name = Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')])), Buffer.from([0])]);
  const head = Buffer.alloc(12);
  head.writeUInt16BE(id, 0);
  head.writeUInt16BE(1, 4);
  return Buffer.concat([head, name, Buffer.from([qtype >> 8, qtype & 0xff, 0, 1])]);
}

describe('DNS names with dots or other bytes inside a label', () => {
  it.each([
    ['a dot inside a label, in the zone', ['pos.x', 'svc', 'example', 'com'], 'NXDOMAIN'],
    ['a latin-1 byte, in the zone', ['caf\u00e9', 'svc', 'example', 'com'], 'NXDOMAIN'],
    ['a backslash and a space', ['a\\ b', 'svc', 'example', 'com'], 'NXDOMAIN'],
    ['the zone name as one label', ['pos', 'svc.example.com'], 'REFUSED'],
    ['outside the zone, with a byte 0xff', ['\u00ff', 'example', 'org'], 'REFUSED'],
  ])('%s: a well-formed answer that echoes the question', async (_name, labels, rcode) => {
    const r = await router();
    const q = rawQuery(4242, labels);
    const [out] = await udpBurst(r.dns.port, [q, q]);
    expect(out).toBeDefined();
    const decoded = dnsPacket.decode(out);
    expect(RCODE_NAMES[out[3] & 0xf]).toBe(rcode);
    expect(decoded.id).toBe(4242);
    // The reply's question is the query's, byte for byte (so the answer cannot be taken for another name).
    expect(out.subarray(12, q.length).equals(q.subarray(12))).toBe(true);
  });
});

describe.skipIf(!digInstalled)('ANY queries (RFC 8482)', () => {
  it('answers one RRset, not every type the name has', async () => {
    const r = await router();
    const svc = await dig('127.0.0.1', r.dns.port, `pos.${ZONE}`, 'ANY');
    expect(svc.answer.map((x) => x.type)).toEqual(['A']);
    const apex = await dig('127.0.0.1', r.dns.port, ZONE, 'ANY');
    expect(apex.answer.map((x) => x.type)).toEqual(['SOA']);
  });
});

describe('DNS answer cache bound', () => {
  it('60 000 queries for 4 names with distinct query types keep at most a few answers per name', () => {
    const routing = new Routing(resolveConfig({ zone: ZONE, defaultLocation: { lat: 48.8, lon: 2.3 }, limits: { answerCacheNames: 1_000 } }), view);
    const resolver = new DnsResolver(routing);
    const names = [`pos.${ZONE}`, ZONE, `nope.${ZONE}`, 'example.org'];
    for (let i = 0; i < 60_000; i++) for (const n of names) resolver.handle(rawQuery(i, n.split('.'), 256 + i), '192.0.2.9', 'udp');
    // One shared answer for all unserved types per name (plus at most A/AAAA/NS/SOA/ANY each).
    expect(resolver.cachedAnswers()).toBeLessThanOrEqual(names.length * 6);
    // Distinct names: the LRU keeps at most answerCacheNames of them.
    for (let i = 0; i < 5_000; i++) resolver.handle(rawQuery(i, [`n${i}`, 'svc', 'example', 'com']), '192.0.2.9', 'udp');
    expect(resolver.cachedAnswers()).toBeLessThanOrEqual(1_000 * 6);
    resolver.close();
    routing.close();
  });
});

describe('TCP DNS slots', () => {
  it('closes a connection whose query does not arrive within the deadline, however slowly bytes trickle in', async () => {
    const r = await router({ tcpMessageDeadlineMs: 600 });
    const c = await tcpOpen(r.dns.port);
    const q = encodeQuery(1, `pos.${ZONE}`, 'A');
    const framed = Buffer.concat([Buffer.from([0, q.length]), q]);
    let i = 0;
    const drip = setInterval(() => {
      if (!c.destroyed && i < framed.length - 1) c.write(framed.subarray(i, ++i));
    }, 100);
    try {
      expect(await closedWithin(c, 2_000)).toBe(true);
    } finally {
      clearInterval(drip);
      c.destroy();
    }
  });

  it('holds at most N connections per client address; another address still gets answers', async () => {
    const r = await router({ tcpConnectionsPerAddress: 4 });
    const held = await Promise.all(Array.from({ length: 4 }, () => tcpOpen(r.dns.port)));
    try {
      const extra = await tcpOpen(r.dns.port);
      expect(await closedWithin(extra, 1_000)).toBe(true);
      const q = encodeQuery(2, `pos.${ZONE}`, 'A');
      const other = await tcpQuery(r.dns.port, q, '127.0.0.2');
      expect(other && dnsPacket.decode(other).answers?.length).toBe(1);
      // Once one of the held connections goes, the address may connect again.
      held[0].destroy();
      await new Promise((res) => setTimeout(res, 100));
      const again = await tcpQuery(r.dns.port, q);
      expect(again && dnsPacket.decode(again).answers?.length).toBe(1);
    } finally {
      for (const c of held) c.destroy();
    }
  });
});

describe('UDP response rate limiting', () => {
  it('past the rate, drops most answers to one network and slips every second one truncated; TCP still answers', async () => {
    const r = await router({ rrl: { responsesPerSecond: 5, slip: 2, exempt: [] } });
    const q = encodeQuery(3, `pos.${ZONE}`, 'A');
    const got = (
      await udpBurst(
        r.dns.port,
        Array.from({ length: 40 }, () => q),
      )
    ).map((m) => dnsPacket.decode(m));
    const full = got.filter((m) => !m.flag_tc);
    const slipped = got.filter((m) => m.flag_tc);
    expect(full.length).toBeGreaterThanOrEqual(5);
    expect(full.length).toBeLessThanOrEqual(7);
    expect(slipped.length).toBeGreaterThanOrEqual(15);
    expect(slipped.every((m) => (m.answers ?? []).length === 0 && m.questions?.[0]?.name === `pos.${ZONE}`)).toBe(true);
    expect(got.length).toBeLessThan(40);
    const tcp = await tcpQuery(r.dns.port, q);
    expect(tcp && dnsPacket.decode(tcp).answers?.length).toBe(1);
  });

  it('leaves loopback alone by default (local tools and probes)', async () => {
    const r = await router();
    const got = await udpBurst(
      r.dns.port,
      Array.from({ length: 200 }, (_, i) => encodeQuery(i, `pos.${ZONE}`, 'A')),
    );
    expect(got.filter((m) => !dnsPacket.decode(m).flag_tc)).toHaveLength(200);
  });
});
