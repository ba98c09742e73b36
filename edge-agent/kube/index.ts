// k3s inventory for the agent. createKubeInventory(opts) -> KubeInventory: start() -> first KubeSnapshot,
// on('change', (snapshot, reason)), on('error', KubeError), snapshot(), status(), stop().
// FakeApiServer (testing/fake-apiserver.ts) is the in-process API server tests and field tests run it against.
export { createKubeInventory, loadKubeConfig } from './inventory-source.ts';
export { KubeError } from './types.ts';
export type * from './types.ts';
