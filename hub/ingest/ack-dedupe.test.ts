// Acks redelivered by the agent's outbox (same seq after a lost PUBACK) are recorded once per (site, seq).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../testing/hub-fixture.ts';
import { enrollSite } from '../testing/fleet.ts';
import { eventually, SimAgent } from '../testing/sim-agent.ts';

let t: TestHub;
let a: SimAgent;
beforeAll(async () => {
  t = await startTestHub();
  a = await SimAgent.connect(t.hub.broker.url(), await enrollSite(t, 'ack-1', {}));
});
afterAll(async () => {
  await a?.close();
  await t?.close();
});

const recorded = async () => (await t.hub.store.rollouts.acks('ack-1', 100)).map((r) => `${r.generation}:${r.result}`).sort();

/** Publishes a last ack with a fresh seq and waits for it: acks of one site are handled in order, so all before it are done. */
async function settle(expected: string[]): Promise<void> {
  await a.ack({ generation: 99, result: 'applied', seq: 1000 });
  await eventually(async () => (await recorded()).includes('99:applied'), 'sentinel ack recorded');
  expect(await recorded()).toEqual([...expected, '99:applied'].sort());
}

describe('ack ingest dedupe', () => {
  it('records a redelivered ack (same seq) once, acks with different seqs each, and acks without seq as before', async () => {
    await a.ack({ generation: 1, result: 'applied', seq: 5 });
    await a.ack({ generation: 1, result: 'applied', seq: 5 }); // redelivery
    await a.ack({ generation: 2, result: 'rejected', code: 'BUNDLE_BAD_SIG', seq: 6 });
    await a.ack({ generation: 3, result: 'applied' }); // older agent: no seq, no dedupe
    await a.ack({ generation: 3, result: 'applied' });
    await settle(['1:applied', '2:rejected', '3:applied', '3:applied']);
    const metrics = (await t.hub.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${t.admin}` } })).body;
    expect(metrics).toMatch(/weft_hub_ack_duplicates_total 1\b/);
  });
});
