// Harness failures carry a code, so a scenario can tell "the fabric could not be built" from
// "the system under test misbehaved". A WeftError: formatError prints the code and the hint.
import { WeftError } from '../../base/index.ts';

export type HarnessErrorCode =
  | 'HARNESS_NOT_ROOT'
  | 'HARNESS_COMMAND_FAILED'
  | 'HARNESS_NETEM_UNAVAILABLE'
  | 'HARNESS_TIMEOUT'
  | 'HARNESS_BAD_OPTIONS'
  | 'HARNESS_CLOSED';

export class HarnessError extends WeftError<HarnessErrorCode> {
  override readonly name = 'HarnessError';
}
