import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../policy/index.ts';
import type { FiveTuple, VerdictEvent } from '../datapath.ts';
import { DatapathError } from '../errors.ts';
import { MemoryDatapath, type Direction } from './memory-datapath.ts';
import { fixtureTables, RULE } from './tables.ts';

const A = { web: '10.9.0.2', db: '10.9.0.3', api: '10.9.0.4', web6: 'fd09::2', db6: 'fd09::3' };
const tcp = (src: string, dst: string, sport: number, dport: number): FiveTuple => ({ proto: 6, src, dst, sport, dport });
const udp = (src: string, dst: string, sport: number, dport: number): FiveTuple => ({ proto: 17, src, dst, sport, dport });

async function setup(opts = {}) {
  const dp = new MemoryDatapath(opts);
  await dp.apply(fixtureTables(A), 7);
  for (const [pod, ifindex] of [
    ['shop/web', 11],
    ['shop/db', 12],
    ['shop/api', 13],
  ] as const)
    await dp.attach({ pod, ifindex, ips: [] });
  return dp;
}

describe('MemoryDatapath', () => {
  it.each<[string, number, Direction, FiveTuple, boolean, string, number]>([
    ['web -> db 5432 allowed by rule', 12, 'ingress', tcp(A.web, A.db, 40000, 5432), true, 'rule', RULE.dbFromWeb],
    ['web -> db 5433 denied by isolation', 12, 'ingress', tcp(A.web, A.db, 40000, 5433), false, 'default', RULE.isolation],
    ['web -> db udp 5003 allowed by a port range', 12, 'ingress', udp(A.web, A.db, 40000, 5003), true, 'rule', RULE.dbUdp],
    ['web -> db udp 5004 outside the range', 12, 'ingress', udp(A.web, A.db, 40000, 5004), false, 'default', RULE.isolation],
    ['api -> db denied: api has no rule', 12, 'ingress', tcp(A.api, A.db, 40000, 5432), false, 'default', RULE.isolation],
    ['world -> db denied', 12, 'ingress', tcp('192.0.2.1', A.db, 40000, 5432), false, 'default', RULE.isolation],
    ['web v6 -> db v6 allowed', 12, 'ingress', tcp(A.web6, A.db6, 40000, 5432), true, 'rule', RULE.dbFromWeb],
    ['web egress: no policy', 11, 'egress', tcp(A.web, A.db, 40000, 5433), true, 'no-policy', 0],
    ['api -> world dns denied', 13, 'egress', udp(A.api, '192.0.2.53', 40000, 53), false, 'rule', RULE.noDns],
    ['api -> world https by the set default', 13, 'egress', tcp(A.api, '192.0.2.53', 40000, 443), true, 'default', 0],
    ['unknown pod IP passes', 12, 'ingress', tcp(A.web, '10.9.9.9', 1, 2), true, 'no-endpoint', 0],
    ['not attached', 99, 'ingress', tcp(A.web, A.db, 40000, 5433), true, 'not-attached', 0],
    ['neighbor discovery passes', 12, 'ingress', { proto: 58, src: 'fe80::1', dst: A.db6, sport: 135, dport: 0 }, true, 'neighbor-discovery', 0],
  ])('%s', async (_n, at, dir, t, pass, step, ruleId) => {
    const dp = await setup();
    const j = dp.judge(at, dir, t);
    expect({ pass: j.pass, step: j.step, ruleId: j.ruleId, generation: j.generation }).toEqual({ pass, step, ruleId, generation: 7 });
  });

  it('lets replies of an allowed flow pass, per endpoint and direction', async () => {
    const dp = await setup();
    const req = tcp(A.web, A.db, 40001, 5432);
    expect(dp.judge('shop/db', 'ingress', req).step).toBe('rule');
    expect(dp.judge('shop/db', 'ingress', req).step).toBe('conntrack');
    expect(dp.judge('shop/db', 'egress', tcp(A.db, A.web, 5432, 40001)).step).toBe('conntrack');
    // db initiating to web on the reversed ports is not a reply at web's ingress (web has no policy there).
    expect(dp.judge('shop/web', 'ingress', tcp(A.db, A.web, 5432, 40001)).step).toBe('no-policy');
    // web's egress allow (no policy) does not open db's ingress for another port.
    expect(dp.judge('shop/web', 'egress', tcp(A.web, A.db, 40002, 5433)).pass).toBe(true);
    expect(dp.judge('shop/db', 'ingress', tcp(A.web, A.db, 40002, 5433)).pass).toBe(false);
  });

  it('passes echo replies and ICMP errors of allowed flows only', async () => {
    const dp = await setup();
    const echo = { proto: 1, src: A.web, dst: A.db, sport: 8, dport: 0 };
    expect(dp.judge('shop/db', 'ingress', echo, { icmpId: 77 }).pass).toBe(true);
    expect(dp.judge('shop/db', 'egress', { proto: 1, src: A.db, dst: A.web, sport: 0, dport: 0 }, { icmpId: 77 }).step).toBe('conntrack');
    const api = { proto: 1, src: A.api, dst: A.db, sport: 8, dport: 0 };
    expect(dp.judge('shop/db', 'ingress', api, { icmpId: 5 }).pass).toBe(false);
    const flow = udp(A.web, A.db, 40003, 5001);
    dp.judge('shop/db', 'ingress', flow);
    const unreachable = { proto: 1, src: A.db, dst: A.web, sport: 3, dport: 3 };
    expect(dp.judge('shop/db', 'egress', unreachable, { inner: flow }).step).toBe('related');
  });

  it('audits: passes and reports the audit rule', async () => {
    const dp = await setup();
    const it = dp.events()[Symbol.asyncIterator]();
    const j = dp.judge('shop/db', 'ingress', tcp(A.web, A.db, 40004, 7000));
    expect(j).toMatchObject({ pass: true, verdict: 'audit', ruleId: RULE.auditDb });
    const e = (await it.next()).value as VerdictEvent;
    expect(e).toMatchObject({ verdict: 'audit', ruleId: RULE.auditDb, endpointId: 2, direction: 'ingress', dport: 7000, generation: 7 });
  });

  it('samples allows at the configured rate and counts by rule and endpoint', async () => {
    const dp = await setup({ allowSampleRate: 1 });
    const it = dp.events()[Symbol.asyncIterator]();
    dp.judge('shop/db', 'ingress', tcp(A.web, A.db, 40005, 5432), { bytes: 100 });
    dp.judge('shop/db', 'ingress', tcp(A.web, A.db, 40005, 5432), { bytes: 100 });
    dp.judge('shop/db', 'ingress', tcp(A.web, A.db, 40005, 1), { bytes: 60 });
    expect((await it.next()).value).toMatchObject({ verdict: 'allow', ruleId: RULE.dbFromWeb });
    expect((await it.next()).value).toMatchObject({ verdict: 'deny', ruleId: RULE.isolation });
    const c = await dp.counters();
    expect(c.byEndpoint).toEqual(
      expect.arrayContaining([
        { endpointId: 2, verdict: 'allow', packets: 2n, bytes: 200n },
        { endpointId: 2, verdict: 'deny', packets: 1n, bytes: 60n },
      ]),
    );
    expect(c.byRule).toEqual(expect.arrayContaining([{ ruleId: RULE.dbFromWeb, verdict: 'allow', packets: 1n, bytes: 100n }]));
  });

  it('rejects tables that do not fit before changing anything', async () => {
    const small = new MemoryDatapath({ limits: { ...DEFAULT_LIMITS, rules: 2 } });
    await expect(small.apply(fixtureTables(A), 1)).rejects.toSatisfy((e) => e instanceof DatapathError && e.code === 'DATAPATH_CAPACITY');
    expect(await small.appliedGeneration()).toBe(0);
  });

  it('expires idle conntrack entries', async () => {
    let now = 0n;
    const dp = await setup({ clock: () => now });
    dp.judge('shop/db', 'ingress', udp(A.web, A.db, 40006, 5000));
    now = 61n * 1_000_000_000n;
    expect(dp.judge('shop/db', 'egress', udp(A.db, A.web, 5000, 40006)).step).toBe('no-policy');
  });
});
