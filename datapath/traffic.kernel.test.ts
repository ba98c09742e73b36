// Real packets between pods in network namespaces (joined by veth pairs and a bridge in a node
// namespace), judged by the programs attached with tc: allowed and denied per the tables,
// replies of allowed flows pass, audit passes and reports, events carry the attribution.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VerdictEvent } from './datapath.ts';
import type { LibbpfDatapath } from './libbpf-datapath.ts';
import { fixtureTables, RULE } from './testing/tables.ts';
import { kernelSkipReason, openTestDatapath } from './testing/kernel.ts';
import { Topology } from './testing/netns.ts';

describe.skipIf(kernelSkipReason)('tc programs on real traffic between network namespaces', () => {
  let topo: Topology;
  let dp: LibbpfDatapath;
  let cleanup: (() => Promise<void>) | undefined;
  const events: VerdictEvent[] = [];
  let addrs: { web: string; db: string; api: string; web6: string; db6: string };

  beforeAll(async () => {
    topo = Topology.create(['web', 'db', 'api'], 78);
    const [web, db, api] = topo.pods;
    addrs = { web: web.ip, db: db.ip, api: api.ip, web6: web.ip6, db6: db.ip6 };
    ({ dp, cleanup } = await openTestDatapath({ netns: topo.nodeNetnsPath }));
    await dp.apply(fixtureTables(addrs), 3);
    for (const p of topo.pods) await dp.attach({ pod: `shop/${p.name}`, ifindex: p.ifindex, ifname: p.hostIf, ips: [p.ip, p.ip6] });
    void (async () => {
      for await (const e of dp.events()) events.push(e);
    })();
    const server = topo.probe('db');
    for (const port of [5432, 5433, 7000]) expect((await server.listen('tcp', port)).ok).toBe(true);
    for (const port of [5002, 5004]) expect((await server.listen('udp', port)).ok).toBe(true);
    expect((await topo.probe('web').listen('tcp', 8080)).ok).toBe(true);
  });

  afterAll(async () => {
    await cleanup?.();
    topo?.destroy();
  });

  /** Events are pushed by the ring buffer's poll in the event loop: wait for one to show up. */
  async function eventWhere(pred: (e: VerdictEvent) => boolean): Promise<VerdictEvent> {
    for (let i = 0; i < 250; i++) {
      const e = events.find(pred);
      if (e) return e;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no such event among ${JSON.stringify(events, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`);
  }

  it('attaches on both directions of each host-side veth', () => {
    for (const p of topo.pods) expect(dp.attached(p.ifindex)).toBe(true);
  });

  it('allows web -> db 5432 over TCP, the replies pass, v4 and v6', async () => {
    const web = topo.probe('web');
    expect(await web.tcp(addrs.db, 5432)).toMatchObject({ ok: true });
    expect(await web.tcp(addrs.db6, 5432)).toMatchObject({ ok: true });
    expect(await web.udp(addrs.db, 5002)).toMatchObject({ ok: true });
  });

  it('denies what the tables deny and reports it with attribution', async () => {
    const [a, b, c] = await Promise.all([
      topo.probe('web').tcp(addrs.db, 5433, 600),
      topo.probe('api').tcp(addrs.db, 5432, 600),
      topo.probe('web').udp(addrs.db, 5004, 600),
    ]);
    expect([a.ok, b.ok, c.ok]).toEqual([false, false, false]);
    const e = await eventWhere((x) => x.dport === 5433 && x.verdict === 'deny');
    expect(e).toMatchObject({ src: addrs.web, dst: addrs.db, proto: 6, endpointId: 2, direction: 'ingress', ruleId: RULE.isolation, generation: 3 });
    expect(e.sport).toBe(a.sport);
    await eventWhere((x) => x.src === addrs.api && x.dport === 5432 && x.verdict === 'deny');
    await eventWhere((x) => x.proto === 17 && x.dport === 5004 && x.verdict === 'deny');
  });

  it('passes audited traffic and reports the audit rule', async () => {
    expect(await topo.probe('web').tcp(addrs.db, 7000)).toMatchObject({ ok: true });
    expect(await eventWhere((x) => x.dport === 7000)).toMatchObject({ verdict: 'audit', ruleId: RULE.auditDb, endpointId: 2, direction: 'ingress' });
  });

  it('lets db open connections out (no egress policy) and their replies back in', async () => {
    expect(await topo.probe('db').tcp(addrs.web, 8080)).toMatchObject({ ok: true });
  });

  it('lets ICMP errors about allowed flows through an isolated ingress (related), v4 and v6', async () => {
    // db (ingress isolated: nothing from web but 5432, UDP 5000-5003 and pings) sends to a closed
    // port of web; web's port unreachable must come back in as related to db's flow.
    const web = topo.pod('web');
    const [v4, v6] = await Promise.all([topo.probe('db').udp(web.ip, 9999, 3000, true), topo.probe('db').udp(web.ip6, 9999, 3000, true)]);
    expect([v4.error, v6.error]).toEqual(['ECONNREFUSED', 'ECONNREFUSED']);
  });

  it('answers pings that the tables allow, v4 and v6, and not others', () => {
    expect(topo.ping('web', addrs.db, 101)).toBe(true);
    expect(topo.ping('web', addrs.db6, 102)).toBe(true);
    expect(topo.ping('api', addrs.db, 103, 0.5)).toBe(false);
  });

  it('counts per rule and per endpoint', async () => {
    const c = await dp.counters();
    expect(c.byRule.find((s) => s.ruleId === RULE.isolation && s.verdict === 'deny')?.packets).toBeGreaterThanOrEqual(3n);
    expect(c.byEndpoint.find((s) => s.endpointId === 2 && s.verdict === 'allow')?.bytes).toBeGreaterThan(0n);
  });

  it('stops enforcing on a detached pod', async () => {
    const db = topo.pod('db');
    await dp.detach({ pod: 'shop/db', ifindex: db.ifindex, ips: [db.ip] });
    expect(dp.attached(db.ifindex)).toBe(false);
    expect(await topo.probe('api').tcp(addrs.db, 5432)).toMatchObject({ ok: true });
  });
});
