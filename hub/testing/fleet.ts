// Enrolls simulated sites on a test hub and connects them as real MQTT clients.
import type { EnrollResponse } from '../../protocol/index.ts';
import type { TestHub } from './hub-fixture.ts';
import { deviceKeys, enrollRequest, SimAgent, type SimAgentOptions } from './sim-agent.ts';

export async function enrollSite(t: TestHub, name: string, labels: Record<string, string>, at: { lat?: number; lon?: number } = {}): Promise<EnrollResponse> {
  const created = await t.api('POST', '/v1/sites', { name, labels, ...at });
  if (created.status !== 201) throw new Error(`create ${name}: ${JSON.stringify(created.body)}`);
  const tok = await t.api('POST', `/v1/sites/${name}/token`, {});
  const r = await t.api('POST', '/v1/enroll', enrollRequest(name, deviceKeys(), tok.body.token), null);
  if (r.status !== 200) throw new Error(`enroll ${name}: ${JSON.stringify(r.body)}`);
  return r.body as EnrollResponse;
}

export async function fleet(
  t: TestHub,
  names: string[],
  labels: (n: string) => Record<string, string>,
  opts: (n: string) => SimAgentOptions = () => ({}),
): Promise<Map<string, SimAgent>> {
  const agents = new Map<string, SimAgent>();
  for (const n of names) agents.set(n, await SimAgent.connect(t.hub.broker.url(), await enrollSite(t, n, labels(n)), opts(n)));
  return agents;
}
