// The agent's k3s manifests as the appliance's k3s auto-deploys them (server/manifests). The
// appliance node already runs the agent as a host service (it must enforce before k3s is up), so
// the DaemonSet is kept off nodes labelled HOST_AGENT_LABEL: it covers only nodes joining later.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

export const HOST_AGENT_LABEL = 'weft.dev/host-agent';

export interface Manifest {
  name: string;
  content: string;
}

/** Manifests from `deployDir` (the kustomization itself is not a cluster object and is left out). */
export function k3sManifests(deployDir: string): Manifest[] {
  return readdirSync(deployDir)
    .filter((n) => n.endsWith('.yaml') && n !== 'kustomization.yaml')
    .sort()
    .map((n) => ({ name: `weft-${n}`, content: withoutHostAgentNodes(readFileSync(join(deployDir, n), 'utf8')) }));
}

export function withoutHostAgentNodes(text: string): string {
  const docs = parseAllDocuments(text);
  let changed = false;
  for (const d of docs) {
    if (d.get('kind') !== 'DaemonSet') continue;
    d.setIn(['spec', 'template', 'spec', 'affinity', 'nodeAffinity', 'requiredDuringSchedulingIgnoredDuringExecution'], {
      nodeSelectorTerms: [{ matchExpressions: [{ key: HOST_AGENT_LABEL, operator: 'DoesNotExist' }] }],
    });
    changed = true;
  }
  return changed ? docs.map((d) => d.toString()).join('---\n') : text;
}
