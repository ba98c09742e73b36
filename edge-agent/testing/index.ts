// What the agent offers tests outside it (images/, bench/): signed bundles and enrolled stores, a
// policy workload, the in-process k3s API server with its objects, and a bundled test entry point.
export { bundle, dbFromWeb, enrollStore, hubKey, kubePod, shopSnapshot, SITE } from './fixtures.ts';
export { bundleForTest, type TestBundle } from './bundle.ts';
export { FakeApiServer, type KubeObject } from '../kube/testing/fake-apiserver.ts';
export { anp, banp, netpol, ns, pod } from '../kube/testing/objects.ts';
export { crashBundle, crashInventory, crashPolicies, crashTables } from './crash-fleet.ts';
