// The agent's version, from package.json (inlined by esbuild into the single binary).
import pkg from '../package.json' with { type: 'json' };

export const AGENT_VERSION: string = pkg.version;
