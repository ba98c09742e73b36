// Errors the agent shows to a technician: a stable code, a message, and the fix.
// A stack trace means a bug; these are expected failures of the environment or of input.

export class AgentError extends Error {
  override readonly name = 'AgentError';
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

/** `message (CODE)` and, on the next line, `hint: ...`: what the CLI prints. */
export function formatAgentError(e: unknown): string {
  if (e instanceof AgentError) return `${e.message} (${e.code})${e.hint ? `\n  fix: ${e.hint}` : ''}`;
  if (e instanceof Error && 'code' in e && typeof (e as { code: unknown }).code === 'string') return `${e.message} (${(e as { code: string }).code})`;
  return e instanceof Error ? e.message : String(e);
}
