// The atomic switch under load: while new UDP flows stream from web to db, switch 1000 times
// between generations that disagree on them: odd ones allow, even ones deny, and each decides with
// a rule id of its own. Every verdict the kernel reported must be the whole verdict of the
// generation it names: never one generation's number with another's verdict or rule (also not the
// generation before last, whose half of the tables the next apply rewrites).
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { afterAll, expect, it } from 'vitest';
import { VERDICT_ALLOW, VERDICT_DENY, type Tables } from '../policy/index.ts';
import type { VerdictEvent } from './datapath.ts';
import { fixtureTables } from './testing/tables.ts';
import { kernelSkipReason, openTestDatapath } from './testing/kernel.ts';
import { Topology } from './testing/netns.ts';

const SWITCHES = 1000;
let topo: Topology | undefined;
let cleanup: (() => Promise<void>) | undefined;
afterAll(async () => {
  await cleanup?.();
  topo?.destroy();
});

it.skipIf(kernelSkipReason)(
  `switches ${SWITCHES} times under traffic with no mixed judgment`,
  async () => {
    topo = Topology.create(['web', 'db', 'api'], 80);
    const [web, db, api] = topo.pods;
    const addrs = { web: web.ip, db: db.ip, api: api.ip };
    const opened = await openTestDatapath({ netns: topo.nodeNetnsPath, allowSampleRate: 1, ringBufferBytes: 16 << 20 });
    const dp = opened.dp;
    cleanup = opened.cleanup;
    // Generation g decides web -> db udp 5000-5003 with rule 1000 + g: allow when g is odd, deny when even.
    const base = fixtureTables(addrs);
    const generation = (g: number): Tables => {
      const t = structuredClone(base);
      for (const r of t.rules) if (r.proto === 17) r.value = { verdict: g % 2 ? VERDICT_ALLOW : VERDICT_DENY, ruleId: 1000 + g, auditRuleId: 0 };
      return t;
    };
    await dp.apply(generation(1), 1);
    for (const p of topo.pods) await dp.attach({ pod: `shop/${p.name}`, ifindex: p.ifindex, ips: [p.ip] });

    const events: VerdictEvent[] = [];
    void (async () => {
      for await (const e of dp.events()) events.push(e);
    })();
    const blaster = topo.probe('web');
    const blast = blaster.blast(addrs.db, 5002, 60_000);
    while (events.length === 0) await new Promise((r) => setTimeout(r, 10));

    for (let gen = 2; gen <= SWITCHES + 1; gen++) {
      await dp.apply(generation(gen), gen);
      await yieldToLoop(); // let the ring buffer's poll deliver while we switch
    }
    await blaster.stop();
    const sent = (await blast).sent ?? 0;
    dp.drainEvents();

    const flows = events.filter((e) => e.endpointId === 2 && e.proto === 17 && e.dport === 5002);
    const mixed = flows.filter((e) => e.verdict !== (e.generation % 2 ? 'allow' : 'deny') || e.ruleId !== 1000 + e.generation);
    const generations = new Set(flows.map((e) => e.generation));
    console.info(`switch test: ${sent} flows sent, ${flows.length} judged and reported across ${generations.size} generations`);
    expect(mixed).toEqual([]);
    expect(await dp.appliedGeneration()).toBe(SWITCHES + 1);
    // The traffic really overlapped the switching: judgments under many generations of both kinds.
    expect(generations.size).toBeGreaterThan(20);
    expect([...generations].some((g) => g % 2 === 0) && [...generations].some((g) => g % 2 === 1)).toBe(true);
  },
  120_000,
);
