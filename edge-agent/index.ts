// What tools outside the product (images/, bench/, field-tests/) use of the agent: its config and
// provisioning file, its errors, logger and metrics, the enforcer the benchmarks time, a whole agent
// in-process (runAgent), its hub link alone (failover tests), and the single-binary build.
// No part of the product imports the agent.
export { defaults, loadConfig, type AgentConfig } from './config.ts';
export { AgentError } from './errors.ts';
export { createLogger, type Logger } from './logger.ts';
export { Enforcer, type AppliedInfo, type EnforcerOptions } from './enforcer.ts';
export { runAgent, type Agent, type RunDeps } from './run.ts';
export { Link, type LinkOptions } from './link.ts';
export { createMetrics, type AgentMetrics } from './metrics.ts';
export { readProvisionFile, type ProvisionFile, type StaticNetwork } from './provision-file.ts';
export { buildSea, type BuildSeaOptions, type BuiltSea } from './packaging/build-sea.ts';
