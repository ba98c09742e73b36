// The policy core's public API: parse, validate, evaluate, compile, look up, and bundles.
export { PolicyError, type PolicyErrorCode, type Where } from './errors.ts';
export { parseManifests, type ManifestObject, type ManifestText } from './parse.ts';
export { loadPolicies, makePolicySet, NAMESPACE_NAME_LABEL, type Loaded } from './load.ts';
export type { Policy, PolicySet, Rule, RuleRef, Peer, PortSpec, Selector, Direction, Action, PolicyKind, Tier } from './model.ts';
export { enforceAudited } from './model.ts';
export { evaluate, type Flow } from './evaluate.ts';
export { EndpointError, type EndpointErrorCode } from './context.ts';
export type { Verdict, DecidedBy } from './verdict.ts';
export type { Inventory, PodInfo, NamespaceInfo, NodeInfo, ContainerPort, Protocol } from './inventory.ts';
export { podKey } from './inventory.ts';
export { compile, tableSizes, type CompileOptions } from './compile.ts';
export { lookup, lookupRule, lookupIdentity } from './lookup.ts';
export { CapacityError } from './capacity.ts';
export { SelectorError } from './selector.ts';
export * from './tables.ts';
export { explain, explainText, describeRef, type Explanation, type SideExplanation } from './explain.ts';
export { convertAdminPolicy, isDeprecatedPolicy, manifestsYaml, CNP_API_VERSION, type Converted } from './convert.ts';
export { connlist, connlistText, describeConnection, type Connection } from './connlist.ts';
export { BundleError, encodeBundle, keyIdOf, signBundle, signBundleTree, verifyBundle } from './bundle.ts';
export type { BundleErrorCode, BundlePayload, SignedBundle, SignedTreeBundle, VerifyOptions } from './bundle.ts';
// Signed key sets and canonical JSON live in base (release keys use them too); still offered here, where bundles are.
export { canonicalJson, compareCodeUnits, KEY_SET_FORMAT, KeySetError, publicKeyOf, signKeySet, verifyKeySet } from '../base/pure.ts';
export type { KeySetErrorCode, KeySetPayload, KeySetVerifyOptions, SignedKeySet, TrustedKey } from '../base/pure.ts';
export { whatIf, withEndpoints, policyName, type RecordedFlow, type WhatIfFlow, type WhatIfGroup, type WhatIfResult, type Policies } from './what-if.ts';
