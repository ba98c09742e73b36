// The fleet the dashboard's browser tests and benchmark drive: a real hub (startTestHub) with simulated
// sites enrolled through the API, connected over real MQTT, sending heartbeats, acks and verdict events.
// A site's "datapath" is the policy core's evaluator: when a bundle arrives it judges the flows the
// test gave it with the bundle's policies and its own inventory, and reports the verdicts with the
// policy, rule and generation that decided them, as a real agent's verdict pump does.
import { evaluate, type Inventory, loadPolicies, type RecordedFlow, withEndpoints } from '../../../policy/index.ts';
import type { VerdictRecord } from '../../../protocol/index.ts';
import { enrollSite } from '../../testing/fleet.ts';
import type { TestHub } from '../../testing/hub-fixture.ts';
import { SimAgent, type SimAgentOptions } from '../../testing/sim-agent.ts';

export interface SiteSpec {
  name: string;
  labels: Record<string, string>;
  lat: number;
  lon: number;
}

export async function enrollAt(t: TestHub, s: SiteSpec, opts: SimAgentOptions = {}): Promise<SimAgent> {
  return SimAgent.connect(t.hub.broker.url(), await enrollSite(t, s.name, s.labels, { lat: s.lat, lon: s.lon }), opts);
}

let seq = 1;
export function verdict(
  endpoint: string,
  v: VerdictRecord['verdict'],
  peer: string,
  dport: number,
  policy: VerdictRecord['policy'],
  generation = 1,
  at = new Date().toISOString(),
): VerdictRecord {
  return { at, generation, endpoint, direction: 'ingress', verdict: v, proto: 6, src: peer, dst: '10.42.0.5', sport: 40000 + (seq % 1000), dport, policy };
}

export async function sendVerdicts(a: SimAgent, verdicts: VerdictRecord[]): Promise<void> {
  await a.events({ seq: seq++, at: new Date().toISOString(), type: 'verdicts', verdicts });
}

/** The verdicts a site's datapath would report for these flows under a bundle's policies. */
export function judge(policies: unknown[], inventory: Inventory, flows: RecordedFlow[], generation: number): VerdictRecord[] {
  const set = loadPolicies(policies).policies;
  const inv = withEndpoints(
    inventory,
    flows.map((f) => f.endpoint),
  );
  return flows.map((f) => {
    const v = evaluate(set, inv, { src: f.peer, dst: f.endpoint, protocol: f.protocol, port: f.port });
    const d = v.decidedBy;
    const policy = typeof d === 'string' ? null : { kind: d.kind, ...(d.namespace ? { namespace: d.namespace } : {}), name: d.name, rule: d.rule };
    return verdict(f.endpoint, v.allowed ? 'allow' : 'deny', f.peer, f.port, policy, generation);
  });
}
