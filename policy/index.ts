// The policy core's public API: parse, validate, evaluate, compile, look up, and bundles.
export { PolicyError, type PolicyErrorCode, type Where } from './errors.ts';
export { parseManifests, type ManifestObject, type ManifestText } from './parse.ts';
export { loadPolicies, makePolicySet, NAMESPACE_NAME_LABEL, type Loaded } from './load.ts';
export type { Policy, PolicySet, Rule, RuleRef, Peer, PortSpec, Selector, Direction, Action, PolicyKind } from './model.ts';
export { enforceAudited } from './model.ts';
export { evaluate, type Flow } from './evaluate.ts';
export { EndpointError, type EndpointErrorCode } from './context.ts';
export type { Verdict, DecidedBy } from './verdict.ts';
export type { Inventory, PodInfo, NamespaceInfo, ContainerPort, Protocol } from './inventory.ts';
export { podKey } from './inventory.ts';
export { compile, tableSizes, type CompileOptions } from './compile.ts';
export { lookup, lookupRule, lookupIdentity } from './lookup.ts';
export { CapacityError } from './capacity.ts';
export * from './tables.ts';
export { explain, explainText, describeRef, type Explanation, type SideExplanation } from './explain.ts';
export { connlist, connlistText, describeConnection, type Connection } from './connlist.ts';
