// One DNS query in, one response out (or nothing). The hot path: parse the header and question by
// hand, locate the client (cached per client address or ECS subnet), find the encoded answer in a
// cache keyed by (name, type, location bucket), copy it and patch id, flags, question and OPT.
// Caches are emptied synchronously on Routing's 'invalidate', so a health change applies at once.
// The caches are bounded whatever clients send: names in an LRU, query types the zone does not serve
// folded into one shared NODATA/NXDOMAIN answer per name, location buckets per name capped.
import { parseIpBytes, SOCKET_ADDRESS } from '../base/index.ts';
import {
  BADVERS,
  FLAG_QR,
  FLAG_RD,
  FLAG_TC,
  QCLASS_ANY,
  QCLASS_IN,
  QTYPE,
  optLength,
  parseQuery,
  plainName,
  questionName,
  subnetIp,
  writeOpt,
  type ClientSubnet,
  type Query,
} from './dns-wire.ts';
import { ZoneAnswers, type Template } from './dns-answers.ts';
import type { ClientLocation } from './locate.ts';
import { Lru } from './lru.ts';
import type { Invalidation, Routing } from './routing.ts';

type NameEntry =
  | { kind: 'fixed'; name: string; byType: Map<number, Template> }
  /** Answers by location bucket, then query type: two lookups and no key string to build per query. */
  | { kind: 'service'; name: string; service: string; byBucket: Map<string, Map<number, Template>> };

export type Transport = 'udp' | 'tcp';

export interface Outcome {
  rcode: number;
  truncated: boolean;
  cached: boolean;
  /** The question's wire name, lower-cased ('' when the query had none): the rate limiter's key. */
  nameKey: string;
  /** End of header and question in the response (12 when it has none). */
  questionEnd: number;
}

const TCP_MAX = 65_535;
/** Location buckets kept per service name before its answers are dropped and rebuilt. */
const BUCKETS_PER_NAME = 10_000;
/** Stands for every query type the zone serves no records of: they all share one answer per name. */
const OTHER_TYPE = 0;
const SERVED_TYPES = new Set<number>([QTYPE.A, QTYPE.AAAA, QTYPE.NS, QTYPE.SOA, QTYPE.ANY]);

/** The cache key of a query type: itself when the zone can hold records of it, OTHER_TYPE otherwise. */
function typeKey(qtype: number): number {
  return SERVED_TYPES.has(qtype) ? qtype : OTHER_TYPE;
}

/** Same wire length as `name`, only letters, digits, '-' and '_': encodable as a template's question. */
function placeholder(name: string): string {
  return name
    .replace(/\\./g, 'x')
    .split('.')
    .map((l) => l.replace(/[^a-z0-9_-]/g, 'x'))
    .join('.');
}

/**
 * The locator cache key of an ECS subnet. IPv4 (nearly all of it) is a number, prefix and address
 * packed below 2^53, so the hot path builds no string; IPv6 a string starting with '#', which no
 * address text (the source-address keys) contains.
 */
function ecsKey(ecs: ClientSubnet): number | string {
  if (ecs.family === 1) {
    const r = ecs.raw;
    const addr = (r[0] ?? 0) * 0x1000000 + ((r[1] ?? 0) << 16) + ((r[2] ?? 0) << 8) + (r[3] ?? 0);
    return ecs.sourcePrefix * 0x100000000 + addr;
  }
  return `#${ecs.sourcePrefix}:${ecs.raw.toString('latin1')}`;
}

export class DnsResolver {
  private readonly names: Lru<string, NameEntry>;
  private readonly answers: ZoneAnswers;
  private readonly onInvalidate = (what: Invalidation) => this.invalidate(what);
  /** What the last handle() did, for metrics without allocating per query. */
  readonly last: Outcome = { rcode: 0, truncated: false, cached: false, nameKey: '', questionEnd: 12 };

  constructor(private readonly routing: Routing) {
    this.answers = new ZoneAnswers(routing.config);
    this.names = new Lru(routing.config.limits.answerCacheNames);
    routing.on('invalidate', this.onInvalidate);
  }

  close(): void {
    this.routing.off('invalidate', this.onInvalidate);
  }

  /** Encoded answers held in the cache (names and per-location, per-type answers): bounded, see the header. */
  cachedAnswers(): number {
    let n = 0;
    for (const e of this.names.values()) {
      if (e.kind === 'fixed') n += e.byType.size;
      else for (const byType of e.byBucket.values()) n += byType.size;
    }
    return n;
  }

  private invalidate(what: Invalidation): void {
    if (what === null) {
      this.names.clear();
      return;
    }
    for (const e of this.names.values()) if (e.kind === 'service' && what.has(e.service)) e.byBucket.clear();
  }

  /** Returns the response to send, or null to send nothing. Never throws on any input. */
  handle(msg: Buffer, source: string, transport: Transport): Buffer | null {
    const p = parseQuery(msg);
    if (p.kind === 'drop') return null;
    if (p.kind === 'error') return this.bare(p.id, p.flags, p.rcode);
    const q = p.q;
    this.last.nameKey = q.nameKey;
    this.last.questionEnd = q.questionEnd;
    if (q.edns && q.edns.version > 0) return this.badVersion(msg, q);
    this.last.cached = true;
    let t: Template;
    let loc: ClientLocation | null = null;
    // Other classes, and zone transfers: the zone is built per client, there is nothing to transfer.
    if ((q.qclass !== QCLASS_IN && q.qclass !== QCLASS_ANY) || q.qtype === QTYPE.AXFR || q.qtype === QTYPE.IXFR) t = this.fixedFor(msg, q, true);
    else {
      const entry = this.entry(msg, q);
      if (entry.kind === 'fixed') t = this.fixedFor(msg, q, false, entry);
      else {
        loc = this.locate(q, source);
        let byType = entry.byBucket.get(loc.bucket);
        if (!byType) {
          if (entry.byBucket.size >= BUCKETS_PER_NAME) entry.byBucket.clear();
          entry.byBucket.set(loc.bucket, (byType = new Map()));
        }
        const type = typeKey(q.qtype);
        let hit = byType.get(type);
        if (!hit) {
          this.last.cached = false;
          hit = this.answers.service(entry.name, type, this.routing.decide(entry.service, loc));
          byType.set(type, hit);
        }
        t = hit;
      }
    }
    const scope = t.located && loc && q.edns?.ecs && q.edns.ecs.sourcePrefix > 0 ? loc.scope : 0;
    return this.fill(msg, q, t, scope, transport);
  }

  private entry(msg: Buffer, q: Query): NameEntry {
    const have = this.names.get(q.nameKey);
    if (have) return have;
    this.last.cached = false;
    const name = questionName(msg, q);
    const zone = this.routing.config.zone;
    let e: NameEntry;
    if (!plainName(msg, q)) {
      // A dot or a byte outside letters, digits, '-' and '_' inside a label: no name of ours. Answer
      // for a stand-in of the same wire length, since the reply carries the query's own question bytes.
      const stand = placeholder(name);
      const t = this.answers.inZone(name) ? this.answers.nxdomain(stand) : this.answers.refused(stand);
      e = { kind: 'fixed', name: stand, byType: new Map([[OTHER_TYPE, t]]) };
      for (const type of SERVED_TYPES) e.byType.set(type, t);
    } else {
      const label = name.endsWith(`.${zone}`) ? name.slice(0, -zone.length - 1) : '';
      const isService = label !== '' && !label.includes('.') && this.routing.hasService(label);
      const fixed = this.answers.fixed(name, QTYPE.A, isService);
      e = fixed ? { kind: 'fixed', name, byType: new Map() } : { kind: 'service', name, service: label, byBucket: new Map() };
    }
    this.names.set(q.nameKey, e);
    return e;
  }

  private fixedFor(msg: Buffer, q: Query, refuse: boolean, entry?: NameEntry): Template {
    const name = entry?.name ?? questionName(msg, q);
    if (refuse) return this.answers.refused(placeholder(name));
    const e = entry as Extract<NameEntry, { kind: 'fixed' }>;
    const type = typeKey(q.qtype);
    let t = e.byType.get(type);
    if (!t) {
      this.last.cached = false;
      t = this.answers.fixed(name, type, false) as Template;
      e.byType.set(type, t);
    }
    return t;
  }

  private locate(q: Query, source: string): ClientLocation {
    const ecs = q.edns?.ecs;
    // Source prefix 0 means "do not use my client's address" (RFC 7871 §7.1.2): use the resolver's.
    if (ecs && ecs.sourcePrefix > 0) {
      const key = ecsKey(ecs);
      return this.routing.locator.cached(key) ?? this.routing.locate(subnetIp(ecs), key);
    }
    return this.routing.locator.cached(source) ?? this.routing.locate(parseIpBytes(source, SOCKET_ADDRESS) ?? { family: 4, bytes: new Uint8Array(4) }, source);
  }

  private fill(msg: Buffer, q: Query, t: Template, scope: number, transport: Transport): Buffer {
    const opt = q.edns ? optLength(q.edns) : 0;
    const limit = transport === 'tcp' ? TCP_MAX : q.edns ? Math.max(512, Math.min(q.edns.udpSize, this.routing.config.udpPayloadSize)) : 512;
    this.last.rcode = t.rcode;
    this.last.truncated = t.buf.length + opt > limit;
    if (this.last.truncated) return this.truncated(msg, q, t, opt);
    const out = Buffer.allocUnsafe(t.buf.length + opt);
    // TypedArray.set and a byte loop: Buffer.copy's argument checks cost more than these short copies.
    out.set(t.buf);
    out.writeUInt16BE(q.id, 0);
    out.writeUInt16BE(t.flags | (q.flags & FLAG_RD), 2);
    for (let i = 12; i < q.questionEnd; i++) out[i] = msg[i];
    if (q.edns) {
      out.writeUInt16BE(t.arcount + 1, 10);
      writeOpt(out, t.buf.length, q.edns, this.routing.config.udpPayloadSize, scope);
    }
    return out;
  }

  /** Too big for the client's UDP size: header and question with TC set, so it retries over TCP. */
  private truncated(msg: Buffer, q: Query, t: Template, opt: number): Buffer {
    const out = Buffer.alloc(q.questionEnd + opt);
    out.writeUInt16BE(q.id, 0);
    out.writeUInt16BE(t.flags | FLAG_TC | (q.flags & FLAG_RD), 2);
    out.writeUInt16BE(1, 4);
    msg.copy(out, 12, 12, q.questionEnd);
    if (q.edns) {
      out.writeUInt16BE(1, 10);
      writeOpt(out, q.questionEnd, q.edns, this.routing.config.udpPayloadSize, 0);
    }
    return out;
  }

  private bare(id: number, flags: number, rcode: number): Buffer {
    const out = Buffer.alloc(12);
    out.writeUInt16BE(id, 0);
    out.writeUInt16BE(FLAG_QR | (flags & 0x7800) | (flags & FLAG_RD) | rcode, 2);
    this.last.rcode = rcode;
    this.last.truncated = false;
    this.last.cached = false;
    this.last.nameKey = '';
    this.last.questionEnd = 12;
    return out;
  }

  /** EDNS version we do not speak: BADVERS (RFC 6891 §6.1.3), with our OPT saying version 0. */
  private badVersion(msg: Buffer, q: Query): Buffer {
    const edns = { ...(q.edns as NonNullable<Query['edns']>), ecs: null };
    const out = Buffer.alloc(q.questionEnd + optLength(edns));
    out.writeUInt16BE(q.id, 0);
    out.writeUInt16BE(FLAG_QR | (q.flags & FLAG_RD), 2);
    out.writeUInt16BE(1, 4);
    out.writeUInt16BE(1, 10);
    msg.copy(out, 12, 12, q.questionEnd);
    writeOpt(out, q.questionEnd, edns, this.routing.config.udpPayloadSize, 0, true);
    this.last.rcode = BADVERS;
    this.last.truncated = false;
    this.last.cached = false;
    return out;
  }
}
