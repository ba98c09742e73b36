// One coded error for every part: a stable code a program can switch on, a message a person reads,
// a hint that says what to do, an optional place (file, path) and the error underneath. Each part
// subclasses it with its own code union (PolicyError, DatapathError, ...). One formatter prints them
// all the same way; a stack trace means a bug, so a user is never shown one for a WeftError.

export class WeftError<C extends string = string> extends Error {
  override readonly name: string = 'WeftError';
  constructor(
    readonly code: C,
    message: string,
    readonly hint?: string,
    opts: { cause?: unknown; where?: string } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    if (opts.where !== undefined) this.where = opts.where;
  }

  /** Where the problem is, when it has a place: `policies/db.yaml#2 spec.ingress[0]`, a file, a command. */
  readonly where?: string;

  /** The one line-and-hint form, as formatError prints it. */
  format(): string {
    return formatError(this);
  }
}

/** The message of anything thrown, without a cast: Error's message, else its string form. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  try {
    return JSON.stringify(e) ?? String(e);
  } catch {
    return String(e);
  }
}

/** The code of anything thrown, when it carries a string one (WeftError, or Node's `ENOENT` style). */
export function errorCode(e: unknown): string | undefined {
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/**
 * What a CLI prints for an error: `where: message (CODE)` and, on the next line, `  hint: ...`.
 * A code-carrying Error (Node's ENOENT and friends) gets its code; anything else just its message.
 */
export function formatError(e: unknown): string {
  const code = errorCode(e);
  const where = e instanceof WeftError && e.where ? `${e.where}: ` : '';
  const hint = e instanceof WeftError && e.hint ? `\n  hint: ${e.hint}` : '';
  return `${where}${errorMessage(e)}${code ? ` (${code})` : ''}${hint}`;
}
