// Where the k3s inventory comes from: --kubeconfig, else k3s's own kubeconfig on the node, else the
// in-cluster service account when the agent runs as the DaemonSet. None of them: no k3s (host service).
import { existsSync } from 'node:fs';
import { createKubeInventory } from './kube/index.ts';
import type { KubeInventory } from './kube/types.ts';
import type { AgentConfig } from './config.ts';

export const K3S_KUBECONFIG = '/etc/rancher/k3s/k3s.yaml';

export interface KubeSource {
  kubeconfig?: string;
  make: () => KubeInventory;
  describe: string;
}

export function kubeSource(cfg: AgentConfig, env: NodeJS.ProcessEnv = process.env): KubeSource | null {
  if (cfg.kube === 'off') return null;
  const kubeconfig = cfg.kubeconfig ?? (existsSync(K3S_KUBECONFIG) ? K3S_KUBECONFIG : undefined);
  if (!kubeconfig && !env.KUBERNETES_SERVICE_HOST) return null;
  return {
    kubeconfig,
    describe: kubeconfig ?? 'in-cluster service account',
    make: () => createKubeInventory({ kubeconfig, nodeName: cfg.nodeName }),
  };
}
