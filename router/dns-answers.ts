// Response templates, encoded once with dns-packet and reused: a template is a whole response with
// id 0 and no OPT record; per query we copy it, set the id, RD and the question's exact bytes (so a
// resolver's 0x20 case randomisation round-trips) and append our OPT record.
import dnsPacket, { type Answer } from 'dns-packet';
import type { RouterConfig } from './config.ts';
import { isIPv4 } from 'node:net';
import { FLAG_AA, FLAG_QR, QTYPE, RCODE } from './dns-wire.ts';
import type { Decision } from './rank.ts';
import { serviceOf } from './routing.ts';

export interface Template {
  buf: Buffer;
  /** Header flags word without RD (echoed from the query). */
  flags: number;
  arcount: number;
  rcode: number;
  /** True when the answer depends on where the client is (the ECS scope applies). */
  located: boolean;
}

type RR = Answer;

export function template(
  name: string,
  rcode: number,
  sections: { answers?: RR[]; authorities?: RR[]; additionals?: RR[] },
  authoritative = true,
  located = false,
): Template {
  const flags = FLAG_QR | (authoritative ? FLAG_AA : 0) | rcode;
  const buf = dnsPacket.encode({
    id: 0,
    type: 'response',
    flags: flags & 0x7fff,
    questions: [{ name: name || '.', type: 'A', class: 'IN' }],
    answers: sections.answers ?? [],
    authorities: sections.authorities ?? [],
    additionals: sections.additionals ?? [],
  });
  return { buf, flags, arcount: sections.additionals?.length ?? 0, rcode, located };
}

/**
 * The SOA serial: a hash of what the zone says about itself. Every router with the same config (each
 * hub replica, each weft-router, each DNS worker) gives the same SOA, so the same question gets the
 * same answer wherever it lands; it changes when that config changes. Nothing transfers this zone
 * (its answers are computed per client), so the serial need not grow (RFC 1982 matters to secondaries).
 */
export function zoneSerial(c: RouterConfig): number {
  const text = JSON.stringify([c.zone, c.nameservers, c.hostmaster, c.ttl, c.negativeTtl]);
  let h = 0x811c9dc5; // FNV-1a, 32 bits
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export class ZoneAnswers {
  private readonly serial: number;

  constructor(private readonly cfg: RouterConfig) {
    this.serial = zoneSerial(cfg);
  }

  private soa(): RR {
    const c = this.cfg;
    return {
      type: 'SOA',
      name: c.zone,
      ttl: c.ttl,
      data: { mname: c.nameservers[0].name, rname: c.hostmaster, serial: this.serial, refresh: 3600, retry: 600, expire: 604_800, minimum: c.negativeTtl },
    };
  }

  /** ANY gets one RRset, A if there is one, else AAAA (RFC 8482: a minimal answer, no amplification). */
  private addresses(name: string, addrs: string[], qtype: number, ttl: number): RR[] {
    const type = qtype === QTYPE.ANY ? (addrs.some((a) => isIPv4(a)) ? QTYPE.A : QTYPE.AAAA) : qtype;
    const want = (a: string) => (type === QTYPE.A ? isIPv4(a) : type === QTYPE.AAAA && !isIPv4(a));
    return addrs.filter(want).map((a) => (isIPv4(a) ? { type: 'A' as const, name, ttl, data: a } : { type: 'AAAA' as const, name, ttl, data: a }));
  }

  private glue(): RR[] {
    const ttl = this.cfg.ttl;
    return this.cfg.nameservers.flatMap((ns) =>
      this.inZone(ns.name) ? [QTYPE.A, QTYPE.AAAA].flatMap((t) => this.addresses(ns.name, ns.addresses, t, ttl)) : [],
    );
  }

  inZone(name: string): boolean {
    return name === this.cfg.zone || name.endsWith(`.${this.cfg.zone}`);
  }

  /** Positive answer, or NODATA (NOERROR, SOA in authority for negative caching) when it is empty. */
  private answerOrNodata(name: string, answers: RR[], located = false, additionals: RR[] = []): Template {
    if (answers.length === 0) return template(name, RCODE.NOERROR, { authorities: [this.soa()] }, true, located);
    return template(name, RCODE.NOERROR, { answers, additionals }, true, located);
  }

  refused(name: string): Template {
    return template(name, RCODE.REFUSED, {}, false);
  }

  nxdomain(name: string): Template {
    return template(name, RCODE.NXDOMAIN, { authorities: [this.soa()] });
  }

  /** Names whose answers do not depend on the client; null for service names. */
  fixed(name: string, qtype: number, isService: boolean): Template | null {
    const c = this.cfg;
    if (!this.inZone(name)) return this.refused(name);
    if (name === c.zone) {
      const ns: RR[] = c.nameservers.map((n) => ({ type: 'NS', name, ttl: c.ttl, data: n.name }));
      if (qtype === QTYPE.SOA) return this.answerOrNodata(name, [this.soa()]);
      if (qtype === QTYPE.NS) return this.answerOrNodata(name, ns, false, this.glue());
      if (qtype === QTYPE.ANY) return this.answerOrNodata(name, [this.soa()]);
      return this.answerOrNodata(name, []);
    }
    const host = c.nameservers.find((n) => n.name === name);
    if (host && host.addresses.length > 0) return this.answerOrNodata(name, this.addresses(name, host.addresses, qtype, c.ttl));
    return isService ? null : this.nxdomain(name);
  }

  /** A service name's answer for this decision: the chosen sites' addresses of the asked type. */
  service(name: string, qtype: number, d: Decision): Template {
    if (d.outcome === 'fail-closed') return template(name, RCODE.SERVFAIL, {}, true, true);
    if (d.outcome === 'unknown-service') return this.nxdomain(name);
    const addrs = [...new Set(d.chosen.flatMap((s) => serviceOf(s, d.service)?.addresses ?? []))];
    const located = qtype === QTYPE.A || qtype === QTYPE.AAAA || qtype === QTYPE.ANY;
    return this.answerOrNodata(name, this.addresses(name, addrs, qtype, this.cfg.ttl), located);
  }
}
