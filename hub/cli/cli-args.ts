// Minimal flag parsing for the local policy tools: `--name value`, `--flag`, positionals.
import { WeftError } from '../../base/index.ts';

export class UsageError extends WeftError<'USAGE'> {
  override readonly name = 'UsageError';
  constructor(message: string, hint?: string) {
    super('USAGE', message, hint);
  }
}

export interface Args {
  flags: Map<string, string | true>;
  positionals: string[];
}

/** `booleans` are flags that take no value. */
export function parseArgs(argv: readonly string[], booleans: readonly string[] = ['json']): Args {
  const flags = new Map<string, string | true>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq > 0 ? eq : undefined);
    if (eq > 0) flags.set(name, a.slice(eq + 1));
    else if (booleans.includes(name)) flags.set(name, true);
    else if (i + 1 < argv.length) flags.set(name, argv[++i]);
    else throw new UsageError(`--${name} needs a value`);
  }
  return { flags, positionals };
}

export function required(args: Args, name: string): string {
  const v = args.flags.get(name);
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required`);
  return v;
}

export function only(args: Args, allowed: readonly string[]): void {
  for (const k of args.flags.keys()) if (!allowed.includes(k)) throw new UsageError(`unknown option --${k}`);
}
