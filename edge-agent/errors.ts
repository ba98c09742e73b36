// Errors the agent shows to a technician: a stable code, a message, and the fix.
// A stack trace means a bug; these are expected failures of the environment or of input.
import { WeftError } from '../base/index.ts';

// The CLI prints them with base formatError: `message (CODE)` and, on the next line, `hint: ...`.
export class AgentError extends WeftError {
  override readonly name = 'AgentError';
  constructor(code: string, message: string, hint?: string, cause?: unknown) {
    super(code, message, hint, { cause });
  }
}
