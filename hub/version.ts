// The hub's version, from package.json: a release names the oldest hub that can roll it out.
import pkg from '../package.json' with { type: 'json' };

export const HUB_VERSION: string = pkg.version;
