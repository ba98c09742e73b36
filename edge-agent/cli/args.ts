// A small flag parser: `--name value`, `--name=value`, and boolean flags. Unknown flags are usage
// errors (exit 2), so a typo never silently changes what the agent does.
import { AgentError } from '../errors.ts';

export interface Parsed {
  command: string | undefined;
  positional: string[];
  flags: Record<string, string | true>;
}

export function parseArgs(argv: string[], spec: { booleans: string[]; values: string[] }): Parsed {
  const flags: Record<string, string | true> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (spec.booleans.includes(name)) {
      if (eq > 0) throw new AgentError('USAGE', `--${name} takes no value`);
      flags[name] = true;
    } else if (spec.values.includes(name)) {
      const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined || (eq < 0 && v.startsWith('--'))) throw new AgentError('USAGE', `--${name} needs a value`);
      flags[name] = v;
    } else {
      throw new AgentError('USAGE', `unknown option --${name}`, 'see `weft-agent help`');
    }
  }
  return { command: positional.shift(), positional, flags };
}

/** camelCase config keys from kebab-case flags: --data-dir -> dataDir. */
export const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
