// The demo policy (scripts/start/demo-policy/audit) pushed and rolled out to every site through
// the hub API, as `weft policy push` and `weft policy rollout --wait` would.
import { join } from 'node:path';
import { readManifests } from '../../hub/index.ts';
import { StartError } from './errors.ts';
import type { HubApi } from './hub-api.ts';

const ROLLOUT_TIMEOUT_MS = 60_000;

export const DEMO_POLICY_DIR = 'scripts/start/demo-policy';

interface Rollout {
  rollout: { id: number; state: string; reason: string | null };
}

export async function rolloutDemoPolicy(api: HubApi, repoRoot: string): Promise<number> {
  const files = readManifests([join(repoRoot, DEMO_POLICY_DIR, 'audit')]);
  const v = await api.call<{ version: number }>('POST', '/v1/policies', { files, message: 'npm start: the demo policy, audit mode' });
  let r = await api.call<Rollout>('POST', '/v1/rollouts', { version: v.version });
  const deadline = Date.now() + ROLLOUT_TIMEOUT_MS;
  while (r.rollout.state === 'running' && Date.now() < deadline) {
    await new Promise((res) => setTimeout(res, 250));
    r = await api.call<Rollout>('GET', `/v1/rollouts/${r.rollout.id}`);
  }
  if (r.rollout.state === 'running' || r.rollout.state === 'failed') {
    throw new StartError(
      'START_SITE_FAILED',
      `the demo policy's rollout ${r.rollout.id} is ${r.rollout.state}${r.rollout.reason ? `: ${r.rollout.reason}` : ''}`,
      `npm run -s weft -- policy status ${r.rollout.id}`,
    );
  }
  return v.version;
}
