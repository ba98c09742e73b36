// The agent's version, from package.json (inlined by esbuild into the single binary).
import pkg from '../package.json' with { type: 'json' };

/** Set by `npm run build:release` (an esbuild define) when it builds a release of another version. */
declare const WEFT_RELEASE_VERSION: string | undefined;

export const AGENT_VERSION: string = typeof WEFT_RELEASE_VERSION === 'string' ? WEFT_RELEASE_VERSION : pkg.version;
