// Harness failures carry a code, so a scenario can tell "the fabric could not be built" from
// "the system under test misbehaved".

export type HarnessErrorCode =
  | 'HARNESS_NOT_ROOT'
  | 'HARNESS_COMMAND_FAILED'
  | 'HARNESS_NETEM_UNAVAILABLE'
  | 'HARNESS_TIMEOUT'
  | 'HARNESS_BAD_OPTIONS'
  | 'HARNESS_CLOSED';

export class HarnessError extends Error {
  override readonly name = 'HarnessError';
  constructor(
    readonly code: HarnessErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(hint ? `${message} (${code})\nhint: ${hint}` : `${message} (${code})`);
  }
}
