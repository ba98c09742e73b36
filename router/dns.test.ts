// The DNS server, running, queried with the real `dig` on 127.0.0.1 and a random port.
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import dnsPacket from 'dns-packet';
import fc from 'fast-check';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRouter, type Router } from './index.ts';
import { MemorySitesView, site } from './testing/memory-sites-view.ts';
import { dig, hasDig } from './testing/dig.ts';
import { encodeQuery } from './testing/query.ts';
import { CITIES, GEO_NETS, worldSites, writeWorldGeoDb, type GeoDbFile } from './testing/fixture.ts';

const digInstalled = hasDig('the dig tests');

const ZONE = 'svc.example.com';
let view: MemorySitesView;
let router: Router;
let geo: GeoDbFile;
const q = (...args: string[]) => dig('127.0.0.1', router.dns.port, ...args);

/** One raw UDP exchange; resolves null when no answer comes within `ms`. */
function udpExchange(msg: Buffer, port = router.dns.port, ms = 300): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const done = (r: Buffer | null) => {
      clearTimeout(timer);
      s.close();
      resolve(r);
    };
    const timer = setTimeout(() => done(null), ms);
    s.on('message', (m) => done(m));
    s.send(msg, port, '127.0.0.1');
  });
}

beforeAll(async () => {
  geo = writeWorldGeoDb();
  // 'big' answers with 40 sites' addresses when answerSites is 40: too large for 512 bytes.
  const many = Array.from({ length: 40 }, (_, i) =>
    site(`big-${String(i).padStart(2, '0')}`, 50, 10 + i / 10, {
      services: [{ name: 'big', addresses: [`198.18.0.${i + 1}`, `198.18.1.${i + 1}`] }],
    }),
  );
  view = new MemorySitesView([...worldSites(), ...many, site('v4only', -33.87, 151.21, { services: [{ name: 'legacy', addresses: ['192.0.2.200'] }] })]);
  router = await startRouter({
    sites: view,
    zone: ZONE,
    dns: { host: '127.0.0.1', port: 0 },
    ttl: 7,
    answerSites: 1,
    geoDbPath: geo.path,
    defaultLocation: CITIES.berlin,
    nameservers: [{ name: `ns1.${ZONE}`, addresses: ['192.0.2.53', '2001:db8::53'] }],
    cidrMap: [{ cidr: '10.20.0.0/16', region: 'south' }],
    regions: { south: CITIES.madrid },
    logger: pino({ level: 'silent' }),
  });
});

afterAll(async () => {
  await router?.close();
  geo?.cleanup();
});

describe.skipIf(!digInstalled)('router DNS with dig', () => {
  it('answers A and AAAA for a service with the nearest site (default location: Berlin)', async () => {
    const a = await q(`pos.${ZONE}`, 'A');
    expect(a.status).toBe('NOERROR');
    expect(a.flags.has('aa')).toBe(true);
    expect(a.answer).toEqual([{ name: `pos.${ZONE}.`, ttl: 7, type: 'A', data: '192.0.2.2' }]);
    const aaaa = await q(`pos.${ZONE}`, 'AAAA');
    expect(aaaa.answer.map((r) => r.data)).toEqual(['2001:db8::2']);
  });

  it('locates by EDNS Client Subnet: geo database, CIDR map region, site network; echoes ECS with scope', async () => {
    const nyc = await q(`pos.${ZONE}`, 'A', `+subnet=${GEO_NETS.nyc}`);
    expect(nyc.answer.map((r) => r.data)).toEqual(['192.0.2.5']);
    expect(nyc.clientSubnet).toBe('203.0.113.0/24/24');
    const madrid = await q(`pos.${ZONE}`, 'A', '+subnet=10.20.30.0/24');
    expect(madrid.answer.map((r) => r.data)).toEqual(['192.0.2.3']);
    expect(madrid.clientSubnet).toBe('10.20.30.0/24/16');
    const parisWifi = await q(`pos.${ZONE}`, 'A', '+subnet=10.99.1.0/24');
    expect(parisWifi.answer.map((r) => r.data)).toEqual(['192.0.2.1']);
    expect(parisWifi.clientSubnet).toBe('10.99.1.0/24/16');
    const lyon = await q(`pos.${ZONE}`, 'AAAA', '+subnet=198.51.100.192/26');
    expect(lyon.answer.map((r) => r.data)).toEqual(['2001:db8::4']);
    expect(lyon.clientSubnet).toBe('198.51.100.192/26/26');
    const v6 = await q(`pos.${ZONE}`, 'A', '+subnet=2001:db8:beef:1::/56');
    expect(v6.answer.map((r) => r.data)).toEqual(['192.0.2.2']);
    expect(v6.clientSubnet).toBe('2001:db8:beef::/56/48');
  });

  it('answers over TCP', async () => {
    const r = await q(`pos.${ZONE}`, 'A', '+tcp', '+subnet=203.0.113.0/24');
    expect(r.status).toBe('NOERROR');
    expect(r.answer.map((x) => x.data)).toEqual(['192.0.2.5']);
  });

  it('truncates a large UDP answer (TC=1) and dig retries over TCP for the full answer', async () => {
    const wide = await startRouter({ sites: view, zone: ZONE, dns: { port: 0 }, answerSites: 40, logger: pino({ level: 'silent' }) });
    try {
      const big = (...args: string[]) => dig('127.0.0.1', wide.dns.port, `big.${ZONE}`, 'A', ...args);
      const noEdns = await big('+noedns');
      expect(noEdns.retriedTcp).toBe(true);
      expect(noEdns.answer).toHaveLength(80);
      const edns = await big('+bufsize=1232');
      expect(edns.retriedTcp).toBe(true);
      expect(edns.answer).toHaveLength(80);
      // Without the retry: the UDP reply itself has TC set and no records.
      const raw = await udpExchange(dnsPacket.encode({ type: 'query', id: 42, questions: [{ name: `big.${ZONE}`, type: 'A' }] }), wide.dns.port);
      const tc = dnsPacket.decode(raw as Buffer);
      expect(tc.flag_tc).toBe(true);
      expect(tc.answers).toHaveLength(0);
      expect((raw as Buffer).length).toBeLessThanOrEqual(512);
    } finally {
      await wide.close();
    }
  });

  it('NXDOMAIN with SOA for unknown names, NODATA where a type has no address', async () => {
    const nx = await q(`nope.${ZONE}`, 'A');
    expect(nx.status).toBe('NXDOMAIN');
    expect(nx.authority.map((r) => r.type)).toEqual(['SOA']);
    const deep = await q(`a.pos.${ZONE}`, 'A');
    expect(deep.status).toBe('NXDOMAIN');
    const nodata = await q(`legacy.${ZONE}`, 'AAAA');
    expect(nodata.status).toBe('NOERROR');
    expect(nodata.answer).toHaveLength(0);
    expect(nodata.authority.map((r) => r.type)).toEqual(['SOA']);
    const mx = await q(`pos.${ZONE}`, 'MX');
    expect(mx.status).toBe('NOERROR');
    expect(mx.answer).toHaveLength(0);
  });

  it('refuses names outside the zone: never an open resolver', async () => {
    for (const name of ['example.org', 'com', 'xsvc.example.com', 'example.com']) {
      const r = await q(name, 'A');
      expect(r.status).toBe('REFUSED');
      expect(r.answer).toHaveLength(0);
      expect(r.flags.has('aa')).toBe(false);
    }
  });

  it('serves SOA and NS at the apex with glue for the in-zone name server', async () => {
    const soa = await q(ZONE, 'SOA');
    expect(soa.answer).toHaveLength(1);
    expect(soa.answer[0].data).toMatch(new RegExp(`^ns1\\.${ZONE}\\. hostmaster\\.${ZONE}\\. \\d+ 3600 600 604800 \\d+$`));
    const ns = await q(ZONE, 'NS');
    expect(ns.answer.map((r) => r.data)).toEqual([`ns1.${ZONE}.`]);
    expect(
      ns.additional
        .filter((r) => r.type !== 'OPT')
        .map((r) => r.data)
        .sort(),
    ).toEqual(['192.0.2.53', '2001:db8::53']);
    const glue = await q(`ns1.${ZONE}`, 'A');
    expect(glue.answer.map((r) => r.data)).toEqual(['192.0.2.53']);
  });

  it('fails over at once: the very next query after a health change leaves the site out', async () => {
    const sub = `+subnet=${GEO_NETS.paris}`;
    expect((await q(`pos.${ZONE}`, 'A', sub)).answer.map((r) => r.data)).toEqual(['192.0.2.1']);
    view.setHealth('paris', 'offline');
    try {
      expect((await q(`pos.${ZONE}`, 'A', sub)).answer.map((r) => r.data)).toEqual(['192.0.2.4']);
      view.setHealth('lyon', 'draining');
      expect((await q(`pos.${ZONE}`, 'A', sub)).answer.map((r) => r.data)).toEqual(['192.0.2.2']);
    } finally {
      view.setHealth('paris', 'online');
      view.setHealth('lyon', 'online');
    }
    expect((await q(`pos.${ZONE}`, 'A', sub)).answer.map((r) => r.data)).toEqual(['192.0.2.1']);
  });

  it('echoes EDNS and answers BADVERS to an unknown EDNS version', async () => {
    const r = await q(`pos.${ZONE}`, 'A', '+edns=1', '+noednsneg');
    expect(r.status).toBe('BADVERS');
    const ok = await q(`pos.${ZONE}`, 'A', '+bufsize=4096');
    expect(ok.ednsUdp).toBe(1232);
  });
});

describe('router DNS with malformed packets', () => {
  const header = (id: number, flags: number, qd: number, an = 0, ns = 0, ar = 0) => {
    const b = Buffer.alloc(12);
    [id, flags, qd, an, ns, ar].forEach((v, i) => b.writeUInt16BE(v, i * 2));
    return b;
  };
  const question = Buffer.concat([
    Buffer.from([3, 112, 111, 115, 3, 115, 118, 99, 7, 101, 120, 97, 109, 112, 108, 101, 3, 99, 111, 109, 0]),
    Buffer.from([0, 1, 0, 1]),
  ]);

  it('answers FORMERR or NOTIMP, or drops, and keeps serving', async () => {
    const cases: [string, Buffer, number | null][] = [
      ['empty', Buffer.alloc(0), null],
      ['short header', Buffer.from([1, 2, 3]), null],
      ['a response (QR set)', Buffer.concat([header(1, 0x8000, 1), question]), null],
      ['no question', header(2, 0, 0), 1],
      ['two questions', Buffer.concat([header(3, 0, 2), question, question]), 1],
      ['truncated name', Buffer.concat([header(4, 0, 1), Buffer.from([3, 112, 111])]), 1],
      ['pointer in question', Buffer.concat([header(5, 0, 1), Buffer.from([0xc0, 12, 0, 1, 0, 1])]), 1],
      ['label too long', Buffer.concat([header(6, 0, 1), Buffer.from([64]), Buffer.alloc(64, 97), Buffer.from([0, 0, 1, 0, 1])]), 1],
      ['missing qtype', Buffer.concat([header(7, 0, 1), question.subarray(0, 21)]), 1],
      ['opcode STATUS', Buffer.concat([header(8, 2 << 11, 1), question]), 4],
      ['additional count past the end', Buffer.concat([header(9, 0, 1, 0, 0, 1), question]), 1],
      [
        'two OPT records',
        Buffer.concat([header(10, 0, 1, 0, 0, 2), question, Buffer.from([0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from([0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0])]),
        1,
      ],
      [
        'ECS with bits past the prefix',
        Buffer.concat([header(11, 0, 1, 0, 0, 1), question, Buffer.from([0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 11, 0, 8, 0, 7, 0, 1, 20, 0, 10, 1, 0xff])]),
        1,
      ],
      [
        'ECS with scope in a query',
        Buffer.concat([header(12, 0, 1, 0, 0, 1), question, Buffer.from([0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 11, 0, 8, 0, 7, 0, 1, 24, 5, 10, 1, 2])]),
        1,
      ],
      ['ECS family 3', Buffer.concat([header(13, 0, 1, 0, 0, 1), question, Buffer.from([0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 8, 0, 8, 0, 4, 0, 3, 0, 0])]), 1],
    ];
    for (const [name, msg, rcode] of cases) {
      const r = await udpExchange(msg);
      if (rcode === null) expect(r, name).toBeNull();
      else {
        expect(r, name).not.toBeNull();
        expect((r as Buffer).readUInt16BE(0), name).toBe(msg.readUInt16BE(0));
        expect((r as Buffer)[3] & 0xf, name).toBe(rcode);
      }
    }
    const ok = await udpExchange(dnsPacket.encode({ type: 'query', id: 99, questions: [{ name: `pos.${ZONE}`, type: 'A' }] }));
    expect(dnsPacket.decode(ok as Buffer).answers).toHaveLength(1);
  });

  it('refuses zone transfers (AXFR, IXFR): the zone is computed per client', async () => {
    for (const type of ['AXFR', 'IXFR'] as const) {
      const r = await udpExchange(dnsPacket.encode({ type: 'query', id: 77, questions: [{ name: ZONE, type }] }));
      expect((r as Buffer)[3] & 0xf, type).toBe(5); // REFUSED
    }
  });

  it('cuts off a TCP client that sends queries but never reads the answers', async () => {
    const wide = await startRouter({ sites: view, zone: ZONE, dns: { port: 0 }, answerSites: 40, logger: pino({ level: 'silent' }) });
    try {
      const query = encodeQuery(5, `big.${ZONE}`, 'A');
      const framed = Buffer.concat([Buffer.from([0, query.length]), query]);
      const batch = Buffer.concat(Array.from({ length: 500 }, () => framed));
      // ~1.3 kB answers: the kernel's socket buffers fill after a few thousand, then our backlog.
      const closed = await new Promise<boolean>((resolve) => {
        const c = connect(wide.dns.port, '127.0.0.1');
        c.pause();
        const timer = setInterval(() => c.write(batch), 10);
        const done = (v: boolean) => {
          clearInterval(timer);
          c.destroy();
          resolve(v);
        };
        c.on('error', () => done(true));
        c.on('close', () => done(true));
        setTimeout(() => done(false), 15_000);
      });
      expect(closed).toBe(true);
      const ok = await udpExchange(dnsPacket.encode({ type: 'query', id: 6, questions: [{ name: `pos.${ZONE}`, type: 'A' }] }), wide.dns.port, 2000);
      expect(dnsPacket.decode(ok as Buffer).answers).toHaveLength(worldSites().length);
    } finally {
      await wide.close();
    }
  }, 25_000);

  it('survives random garbage over UDP and TCP', async () => {
    const packets = fc.sample(fc.uint8Array({ minLength: 0, maxLength: 600 }), { numRuns: 400, seed: 7 });
    // Mutated real queries reach deeper into the parser than uniform noise.
    const base = encodeQuery(1, `pos.${ZONE}`, 'A', '203.0.113.0/24');
    const mutated = fc
      .sample(fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), { numRuns: 400, seed: 11 })
      .map((edits) => {
        const b = Buffer.from(base);
        for (const [i, v] of edits) b[i] = v;
        return b;
      });
    const s = createSocket('udp4');
    for (const p of [...packets, ...mutated]) s.send(Buffer.from(p), router.dns.port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 200));
    s.close();
    await new Promise<void>((resolve, reject) => {
      const c = connect(router.dns.port, '127.0.0.1', () => {
        for (const p of packets.slice(0, 50)) {
          const len = Buffer.alloc(2);
          len.writeUInt16BE(p.length);
          c.write(Buffer.concat([len, Buffer.from(p)]));
        }
        c.end();
      });
      c.on('error', () => resolve());
      c.on('close', () => resolve());
      setTimeout(() => reject(new Error('tcp connection not closed')), 5_000).unref();
      c.resume();
    });
    const ok = await udpExchange(dnsPacket.encode({ type: 'query', id: 100, questions: [{ name: `pos.${ZONE}`, type: 'AAAA' }] }));
    expect(dnsPacket.decode(ok as Buffer).answers).toHaveLength(1);
  });
});
