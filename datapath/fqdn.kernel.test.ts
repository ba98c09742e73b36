// FQDN learning in the kernel, under BPF_PROG_TEST_RUN on the real maps: a DNS answer entering the
// pod (a reply to its own query) teaches its addresses before the program returns, so the very
// next packet to them is judged with them. The odd answers: CNAME chains, wildcards, case, two
// names on one address, TTL 0 and the sign bit, truncated, cut short, malformed, compressed
// questions, errors, answers nobody asked for, DNS over TCP, IPv6; and expiry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LibbpfDatapath } from './libbpf-datapath.ts';
import { frame } from './packet.ts';
import { dnsAnswer, queryFrame, tcpAnswerFrame, udpAnswerFrame, type Answer } from './testing/dns-frames.ts';
import { fqdnTables } from './testing/fqdn-policy.ts';
import { kernelSkipReason, openTestDatapath } from './testing/kernel.ts';

const CLIENT = '10.77.0.2';
const RESOLVER = '10.77.0.53';
const MIN_TTL = 30;
const GRACE = 10;

let port = 20000;
const nextPort = () => port++;

describe.skipIf(kernelSkipReason)('FQDN learning from DNS answers (BPF_PROG_TEST_RUN)', () => {
  let dp: LibbpfDatapath;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dp, cleanup } = await openTestDatapath({ fqdnMinTtl: MIN_TTL, fqdnGrace: GRACE }));
    const tables = fqdnTables(CLIENT, RESOLVER);
    expect(tables.fqdn).toEqual(['api.example.com', '*.cdn.test']);
    await dp.apply(tables, 1);
  });
  afterAll(async () => cleanup?.());

  /** The pod asks (opening conntrack), the answer comes back: whether it passed. */
  function resolve(msg: Buffer, proto: 6 | 17 = 17): boolean {
    const p = nextPort();
    expect(dp.testRun('egress', queryFrame(CLIENT, RESOLVER, p, proto)).pass).toBe(true);
    const answer = proto === 17 ? udpAnswerFrame(RESOLVER, CLIENT, p, msg) : tcpAnswerFrame(RESOLVER, CLIENT, p, msg);
    return dp.testRun('ingress', answer).pass;
  }
  /** A new TCP connection from the pod to addr:443 (a fresh source port: no conntrack). */
  const connect = (addr: string, dport = 443) => dp.testRun('egress', frame({ proto: 6, src: CLIENT, dst: addr, sport: nextPort(), dport })).pass;
  const learnedFor = (addr: string) => dp.learned().find((e) => e.addr === addr)?.hits ?? [];
  const a = (name: string, data: string, ttl = 300): Answer => ({ name, type: 'A', ttl, data });

  it('denies a name-allowed address before any answer, allows it right after the answer', () => {
    expect(connect('203.0.113.10')).toBe(false);
    expect(resolve(dnsAnswer('api.example.com', [a('api.example.com', '203.0.113.10')]))).toBe(true);
    expect(connect('203.0.113.10')).toBe(true);
    expect(connect('203.0.113.10', 80)).toBe(false); // the rule's port only
  });

  it('follows a CNAME chain: the question decides, the chain end is allowed', () => {
    const msg = dnsAnswer('api.example.com', [
      { name: 'api.example.com', type: 'CNAME', ttl: 300, data: 'lb.example.net' },
      { name: 'lb.example.net', type: 'CNAME', ttl: 300, data: 'edge.cdn-provider.org' },
      a('edge.cdn-provider.org', '203.0.113.20'),
      a('edge.cdn-provider.org', '203.0.113.21'),
    ]);
    expect(resolve(msg)).toBe(true);
    expect(connect('203.0.113.20')).toBe(true);
    expect(connect('203.0.113.21')).toBe(true);
  });

  it.each([
    ['one label under the wildcard', 'img.cdn.test', true],
    ['several labels under it', 'a.b.c.cdn.test', true],
    ['upper case in the question', 'IMG2.CDN.Test', true],
    ['the wildcard suffix itself', 'cdn.test', false],
    ['a name that only ends alike', 'evilcdn.test', false],
    ['a name under the exact pattern', 'www.api.example.com', false],
    ['a name not allowed', 'example.org', false],
  ])('wildcards as upstream defines them: %s (%s)', (_what, name, allowed) => {
    const addr = `198.51.100.${nextPort() % 250}`;
    expect(resolve(dnsAnswer(name, [a(name, addr)]))).toBe(true); // answers always pass
    expect(connect(addr)).toBe(allowed);
  });

  it('two names on one address: each keeps its own entry, the later expiry wins per pattern', () => {
    expect(resolve(dnsAnswer('api.example.com', [a('api.example.com', '203.0.113.30', 5)]))).toBe(true);
    expect(resolve(dnsAnswer('x.cdn.test', [a('x.cdn.test', '203.0.113.30', 600)]))).toBe(true);
    const hits = learnedFor('203.0.113.30');
    expect(hits.map((h) => h.pattern).sort()).toEqual([dp.patternKey('api.example.com'), dp.patternKey('*.cdn.test')].sort());
    const byPattern = new Map(hits.map((h) => [h.pattern, h.expiresNs]));
    expect(byPattern.get(dp.patternKey('*.cdn.test'))! - byPattern.get(dp.patternKey('api.example.com'))!).toBeGreaterThan(500n * 10n ** 9n);
    // A shorter answer later does not shorten it.
    const before = byPattern.get(dp.patternKey('*.cdn.test'))!;
    expect(resolve(dnsAnswer('y.cdn.test', [a('y.cdn.test', '203.0.113.30', 1)]))).toBe(true);
    expect(new Map(learnedFor('203.0.113.30').map((h) => [h.pattern, h.expiresNs])).get(dp.patternKey('*.cdn.test'))).toBe(before);
    expect(connect('203.0.113.30')).toBe(true);
  });

  it.each([
    ['TTL 0', 0],
    ['a TTL with the sign bit (RFC 2181: 0)', 0x80000005],
  ])('%s lives the configured minimum plus grace', (_what, ttl) => {
    const addr = `203.0.113.${40 + (ttl ? 1 : 0)}`;
    const now = process.hrtime.bigint();
    expect(resolve(dnsAnswer('api.example.com', [a('api.example.com', addr, ttl)]))).toBe(true);
    const [hit] = learnedFor(addr);
    const lives = Number(hit.expiresNs - now) / 1e9;
    expect(lives).toBeGreaterThanOrEqual(MIN_TTL + GRACE - 0.01);
    expect(lives).toBeLessThan(MIN_TTL + GRACE + 5);
    expect(connect(addr)).toBe(true);
  });

  it('a long TTL is kept as given', () => {
    const now = process.hrtime.bigint();
    expect(resolve(dnsAnswer('api.example.com', [a('api.example.com', '203.0.113.45', 3600)]))).toBe(true);
    const lives = Number(learnedFor('203.0.113.45')[0].expiresNs - now) / 1e9;
    expect(lives).toBeGreaterThanOrEqual(3600 + GRACE - 0.01);
    expect(lives).toBeLessThan(3600 + GRACE + 5);
  });

  it('AAAA answers teach IPv6 addresses', () => {
    expect(resolve(dnsAnswer('v6.cdn.test', [{ name: 'v6.cdn.test', type: 'AAAA', ttl: 60, data: '2001:db8::77' }], { qtype: 'AAAA' }))).toBe(true);
    expect(learnedFor('2001:db8::77')).toHaveLength(1);
  });

  it('a truncated (TC) answer: its complete records are learned, the cut one is not', () => {
    const full = dnsAnswer('tc.cdn.test', [a('tc.cdn.test', '203.0.113.50'), a('tc.cdn.test', '203.0.113.51')], { tc: true });
    const cut = full.subarray(0, full.length - 2); // the last record's address is cut short
    expect(resolve(cut)).toBe(true);
    expect(connect('203.0.113.50')).toBe(true);
    expect(connect('203.0.113.51')).toBe(false);
  });

  it('a malformed record ends the walk; what came before stays', () => {
    const msg = dnsAnswer('bad.cdn.test', [a('bad.cdn.test', '203.0.113.60'), a('bad.cdn.test', '203.0.113.61')]);
    // The second record's rdlength claims more than the message holds.
    msg.writeUInt16BE(400, msg.length - 4 - 2);
    expect(resolve(msg)).toBe(true);
    expect(connect('203.0.113.60')).toBe(true);
    expect(connect('203.0.113.61')).toBe(false);
  });

  it.each([
    ['an error answer (NXDOMAIN) with records', dnsAnswer('api.example.com', [a('api.example.com', '203.0.113.70')], { rcode: 3 })],
    [
      'a query, not a response',
      (() => {
        const m = dnsAnswer('api.example.com', [a('api.example.com', '203.0.113.70')]);
        m[2] &= 0x7f;
        return m;
      })(),
    ],
    [
      'a compression pointer in the question',
      (() => {
        const m = dnsAnswer('api.example.com', [a('api.example.com', '203.0.113.70')]);
        m[12] = 0xc0;
        return m;
      })(),
    ],
    ['garbage after a valid header', Buffer.concat([dnsAnswer('api.example.com', []).subarray(0, 12), Buffer.from([0x01, 0x00, 0x01, 0xff, 0xff])])],
    ['an empty payload', Buffer.alloc(0)],
  ])('learns nothing from %s, and the answer still passes', (_what, msg) => {
    expect(resolve(msg)).toBe(true);
    expect(learnedFor('203.0.113.70')).toEqual([]);
  });

  it('random bytes as answers never crash the program nor teach anything', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >> 16) & 0xff;
    const before = dp.learned().length;
    for (let i = 0; i < 300; i++) {
      const m = dnsAnswer('api.example.com', [a('api.example.com', '203.0.113.80')]);
      // Keep the header and question, scramble the answer section.
      for (let j = 33; j < m.length; j++) if (rnd() < 128) m[j] = rnd();
      expect(resolve(m)).toBe(true);
    }
    // Scrambled records may still parse as an A record of some address: only addresses, never a crash.
    expect(dp.learned().length).toBeGreaterThanOrEqual(before);
  });

  it('an answer the pod did not ask for (no conntrack entry) teaches nothing', () => {
    const msg = dnsAnswer('api.example.com', [a('api.example.com', '203.0.113.90')]);
    dp.testRun('ingress', udpAnswerFrame(RESOLVER, CLIENT, nextPort(), msg));
    expect(learnedFor('203.0.113.90')).toEqual([]);
    expect(connect('203.0.113.90')).toBe(false);
  });

  it('DNS over TCP: the segment that starts the message is parsed', () => {
    expect(resolve(dnsAnswer('tcp.cdn.test', [a('tcp.cdn.test', '203.0.113.100')]), 6)).toBe(true);
    expect(connect('203.0.113.100')).toBe(true);
  });

  it('expired addresses are denied again, and swept', async () => {
    const fresh = await openTestDatapath({ fqdnMinTtl: 0, fqdnGrace: 0 });
    try {
      await fresh.dp.apply(fqdnTables(CLIENT, RESOLVER), 1);
      const p = nextPort();
      fresh.dp.testRun('egress', queryFrame(CLIENT, RESOLVER, p));
      fresh.dp.testRun('ingress', udpAnswerFrame(RESOLVER, CLIENT, p, dnsAnswer('api.example.com', [a('api.example.com', '203.0.113.110', 1)])));
      const syn = () => fresh.dp.testRun('egress', frame({ proto: 6, src: CLIENT, dst: '203.0.113.110', sport: nextPort(), dport: 443 })).pass;
      expect(syn()).toBe(true);
      await new Promise((r) => setTimeout(r, 1100));
      expect(syn()).toBe(false);
      expect(fresh.dp.sweepLearned()).toBe(1);
      expect(fresh.dp.learned()).toEqual([]);
    } finally {
      await fresh.cleanup();
    }
  });

  it('restoreLearned puts stored addresses back (a fresh layout after a reboot), expired ones left out', async () => {
    const fresh = await openTestDatapath();
    try {
      await fresh.dp.apply(fqdnTables(CLIENT, RESOLVER), 1);
      const now = process.hrtime.bigint();
      const n = fresh.dp.restoreLearned([
        { addr: '203.0.113.120', pattern: fresh.dp.patternKey('api.example.com'), expiresNs: now + 60n * 10n ** 9n },
        { addr: '203.0.113.121', pattern: fresh.dp.patternKey('api.example.com'), expiresNs: now - 1n },
      ]);
      expect(n).toBe(1);
      const syn = (addr: string) => fresh.dp.testRun('egress', frame({ proto: 6, src: CLIENT, dst: addr, sport: nextPort(), dport: 443 })).pass;
      expect(syn('203.0.113.120')).toBe(true);
      expect(syn('203.0.113.121')).toBe(false);
    } finally {
      await fresh.cleanup();
    }
  });
});
