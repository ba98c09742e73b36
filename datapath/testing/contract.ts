// The datapath contract: one scenario table that every Datapath must pass, drop and report exactly
// alike. datapath.contract.test.ts runs it over the in-memory fake (anywhere, in milliseconds) and
// datapath.contract.kernel.test.ts over the kernel programs (BPF_PROG_TEST_RUN against the real
// maps, as root), so the fake cannot drift from the kernel.
import { afterAll, describe, expect, it } from 'vitest';
import type { Datapath, VerdictEvent } from '../datapath.ts';
import { DROP_REASON_NAMES } from '../drop-reasons.ts';
import type { PacketSpec } from '../packet.ts';
import type { Direction } from './memory-datapath.ts';
import { fixtureTables, RULE } from './tables.ts';

const A = { web: '10.9.0.2', db: '10.9.0.3', api: '10.9.0.4', web6: 'fd09::2', db6: 'fd09::3' };
const WORLD = '192.0.2.1';

type Want = [verdict: VerdictEvent['verdict'], ruleId: number] | null;
// [what, direction of the pod whose veth sees it, packet, passes, event (null: none)]
const SCENARIO: [string, Direction, PacketSpec, boolean, Want][] = [
  ['web -> db 5432: allowed by rule', 'ingress', { proto: 6, src: A.web, dst: A.db, sport: 40000, dport: 5432 }, true, ['allow', RULE.dbFromWeb]],
  ['db -> web reply: conntrack', 'egress', { proto: 6, src: A.db, dst: A.web, sport: 5432, dport: 40000 }, true, null],
  ['web -> db again: established', 'ingress', { proto: 6, src: A.web, dst: A.db, sport: 40000, dport: 5432 }, true, null],
  ['web -> db 5433: isolation', 'ingress', { proto: 6, src: A.web, dst: A.db, sport: 40000, dport: 5433 }, false, ['deny', RULE.isolation]],
  ['api -> db 5432: not allowed', 'ingress', { proto: 6, src: A.api, dst: A.db, sport: 40000, dport: 5432 }, false, ['deny', RULE.isolation]],
  ['web -> db udp 5002: port range', 'ingress', { proto: 17, src: A.web, dst: A.db, sport: 40001, dport: 5002 }, true, ['allow', RULE.dbUdp]],
  ['web -> db udp 5004: outside', 'ingress', { proto: 17, src: A.web, dst: A.db, sport: 40001, dport: 5004 }, false, ['deny', RULE.isolation]],
  ['web -> db 7000: audit passes', 'ingress', { proto: 6, src: A.web, dst: A.db, sport: 40002, dport: 7000 }, true, ['audit', RULE.auditDb]],
  ['web -> db sctp 5432: no sctp rule', 'ingress', { proto: 132, src: A.web, dst: A.db, sport: 40003, dport: 5432 }, false, ['deny', RULE.isolation]],
  ['web -> db sctp 9899: allowed by rule', 'ingress', { proto: 132, src: A.web, dst: A.db, sport: 40003, dport: 9899 }, true, ['allow', RULE.dbFromWeb]],
  ['db -> web sctp reply: conntrack', 'egress', { proto: 132, src: A.db, dst: A.web, sport: 9899, dport: 40003 }, true, null],
  ['db6 -> world6 tcp (no egress policy)', 'egress', { proto: 6, src: A.db6, dst: '2001:db8::1', sport: 40011, dport: 443 }, true, null],
  [
    'router -> db6 packet too big about it: related',
    'ingress',
    { proto: 58, src: 'fd09::fe', dst: A.db6, sport: 2, dport: 0, inner: { proto: 6, src: A.db6, dst: '2001:db8::1', sport: 40011, dport: 443 } },
    true,
    null,
  ],
  [
    'router -> db6 packet too big about nothing',
    'ingress',
    { proto: 58, src: 'fd09::fe', dst: A.db6, sport: 2, dport: 0, inner: { proto: 6, src: A.db6, dst: '2001:db8::1', sport: 40012, dport: 443 } },
    false,
    ['deny', RULE.isolation],
  ],
  ['web6 -> db6 5432', 'ingress', { proto: 6, src: A.web6, dst: A.db6, sport: 40004, dport: 5432 }, true, ['allow', RULE.dbFromWeb]],
  ['partner net -> db 5432: CIDR peer', 'ingress', { proto: 6, src: '198.51.100.7', dst: A.db, sport: 40013, dport: 5432 }, true, ['allow', RULE.dbFromWeb]],
  [
    'partner host .9 -> db 5432: its /32 wins over the /24',
    'ingress',
    { proto: 6, src: '198.51.100.9', dst: A.db, sport: 40014, dport: 5432 },
    false,
    ['deny', RULE.isolation],
  ],
  ['world -> db', 'ingress', { proto: 6, src: WORLD, dst: A.db, sport: 40005, dport: 5432 }, false, ['deny', RULE.isolation]],
  ['api -> world dns: denied', 'egress', { proto: 17, src: A.api, dst: WORLD, sport: 40006, dport: 53 }, false, ['deny', RULE.noDns]],
  ['api -> world https: set default', 'egress', { proto: 6, src: A.api, dst: WORLD, sport: 40007, dport: 443 }, true, ['allow', 0]],
  ['web egress: no policy, no event', 'egress', { proto: 6, src: A.web, dst: A.db, sport: 40008, dport: 5433 }, true, null],
  ['web -> db ping', 'ingress', { proto: 1, src: A.web, dst: A.db, sport: 8, dport: 0, icmpId: 9 }, true, ['allow', RULE.dbFromWeb]],
  ['db -> web echo reply', 'egress', { proto: 1, src: A.db, dst: A.web, sport: 0, dport: 0, icmpId: 9 }, true, null],
  ['api -> db ping', 'ingress', { proto: 1, src: A.api, dst: A.db, sport: 8, dport: 0, icmpId: 10 }, false, ['deny', RULE.isolation]],
  ['web6 -> db6 ping6', 'ingress', { proto: 58, src: A.web6, dst: A.db6, sport: 128, dport: 0, icmpId: 11 }, true, ['allow', RULE.dbFromWeb]],
  ['db6 -> web6 echo reply', 'egress', { proto: 58, src: A.db6, dst: A.web6, sport: 129, dport: 0, icmpId: 11 }, true, null],
  ['db -> world udp (no egress policy)', 'egress', { proto: 17, src: A.db, dst: WORLD, sport: 40009, dport: 9999 }, true, null],
  [
    'world -> db unreachable about it: related',
    'ingress',
    { proto: 1, src: '192.0.2.254', dst: A.db, sport: 3, dport: 3, inner: { proto: 17, src: A.db, dst: WORLD, sport: 40009, dport: 9999 } },
    true,
    null,
  ],
  [
    'world -> db unreachable about nothing',
    'ingress',
    { proto: 1, src: '192.0.2.254', dst: A.db, sport: 3, dport: 3, inner: { proto: 17, src: A.db, dst: WORLD, sport: 40010, dport: 9999 } },
    false,
    ['deny', RULE.isolation],
  ],
  ['neighbor solicitation to db6', 'ingress', { proto: 58, src: 'fe80::1', dst: A.db6, sport: 135, dport: 0 }, true, null],
  ['unknown pod address', 'ingress', { proto: 6, src: A.web, dst: '10.9.9.9', sport: 1, dport: 2 }, true, null],
];

/** A datapath under test and how to put one packet through it. */
interface Harness {
  dp: Datapath;
  send(dir: Direction, p: PacketSpec): boolean;
  flush(): void;
  cleanup(): Promise<void>;
}

/** Registers the contract suite for one datapath; `skip` says why it cannot run here. */
export function datapathContract(name: string, make: () => Promise<Harness>, skip?: string): void {
  describe(`Datapath contract: ${name}`, () => {
    let h: Harness | undefined;
    afterAll(async () => h?.cleanup());

    it.skipIf(skip)('judges the scenario and reports with attribution and generation', async () => {
      h = await make();
      expect(await h.dp.appliedGeneration()).toBe(0);
      await h.dp.apply(fixtureTables(A), 41);
      expect(await h.dp.appliedGeneration()).toBe(41);
      const events: VerdictEvent[] = [];
      const it = h.dp.events()[Symbol.asyncIterator]();
      for (const [what, dir, p, pass, want] of SCENARIO) {
        expect(h.send(dir, p), what).toBe(pass);
        h.flush();
        if (want) {
          const e = (await it.next()).value as VerdictEvent;
          events.push(e);
          expect({
            what,
            verdict: e.verdict,
            ruleId: e.ruleId,
            generation: e.generation,
            direction: e.direction,
            src: e.src,
            dst: e.dst,
            proto: e.proto,
            sport: e.sport,
            dport: e.dport,
          }).toEqual({
            what,
            verdict: want[0],
            ruleId: want[1],
            generation: 41,
            direction: dir,
            src: p.src,
            dst: p.dst,
            proto: p.proto,
            sport: p.sport,
            dport: p.dport,
          });
        }
      }
      // Nothing was reported beyond what the scenario expects.
      h.send('ingress', { proto: 6, src: A.api, dst: A.db, sport: 1, dport: 1 });
      h.flush();
      expect(((await it.next()).value as VerdictEvent).sport).toBe(1);

      const c = await h.dp.counters();
      const denies = c.byRule.filter((s) => s.ruleId === RULE.isolation && s.verdict === 'deny');
      expect(denies.map((s) => s.packets)).toEqual([10n]);
      const dbAllow = c.byEndpoint.find((s) => s.endpointId === 2 && s.verdict === 'allow');
      expect(dbAllow?.packets).toBe(16n);
      // Every drop is counted with its reason. Here all are policy denies (the scenario's and the one
      // above); frames too malformed to judge are the kernel's alone (prog-test-run.kernel.test.ts).
      const denied = SCENARIO.filter(([, , , pass]) => !pass).length + 1;
      const drops = Object.fromEntries(Object.entries(c.drops).map(([r, d]) => [r, d.packets]));
      expect(drops).toEqual({ ...Object.fromEntries(DROP_REASON_NAMES.map((r) => [r, 0n])), policy: BigInt(denied) });
      expect(c.drops.policy.bytes).toBeGreaterThan(0n);
    });

    it.skipIf(skip)('switches generations whole and rejects a set that does not fit', async () => {
      h ??= await make();
      await h.dp.apply(fixtureTables(A, 'allow'), 42);
      expect(h.send('ingress', { proto: 6, src: A.api, dst: A.db, sport: 50000, dport: 1 })).toBe(true);
      const big = fixtureTables(A);
      big.rules = Array.from({ length: 300_000 }, (_, i) => ({
        set: 1,
        peer: 100 + (i % 1000),
        proto: 6,
        port: i % 65536,
        portBits: 16,
        value: big.rules[0].value,
      }));
      await expect(h.dp.apply(big, 43)).rejects.toMatchObject({ code: 'DATAPATH_CAPACITY' });
      expect(await h.dp.appliedGeneration()).toBe(42);
      expect(h.send('ingress', { proto: 6, src: A.api, dst: A.db, sport: 50001, dport: 1 })).toBe(true);
    });
  });
}
