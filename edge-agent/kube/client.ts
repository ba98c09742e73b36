// @kubernetes/client-node is loaded only when the k3s watch starts: it is large (the agent enforces before it
// touches the network, so it should not pay for this at start), and its 2.x line pulls undici 8, which does
// not load on Node < 22.19; importing edge-agent/kube must not crash the agent when that is the case.
import { KubeError } from './types.ts';

export type K8s = typeof import('@kubernetes/client-node');

let cached: Promise<K8s> | undefined;

export function loadClient(): Promise<K8s> {
  cached ??= import('@kubernetes/client-node').catch((err: unknown) => {
    cached = undefined;
    throw new KubeError('KUBE_CLIENT', `@kubernetes/client-node cannot load on Node ${process.version}: ${(err as Error).message}`,
      'client-node 2.x depends on undici 8 (Node >= 22.19): pin undici to ^7 with an npm override, or run Node >= 22.19', { cause: err });
  });
  return cached;
}
