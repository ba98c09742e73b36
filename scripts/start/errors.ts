// Errors of `npm start`: bad options (exit 2) and a demo that could not come up (exit 1), each with
// the fix. A stack trace from npm start means a bug.
import { formatError, WeftError } from '../../base/index.ts';
export type StartErrorCode = 'START_BAD_OPTION' | 'START_PORT_IN_USE' | 'START_STATE_DIR' | 'START_SITE_FAILED' | 'START_HUB_API';

export class StartError extends WeftError<StartErrorCode> {
  override readonly name = 'StartError';

  get exitCode(): 1 | 2 {
    return this.code === 'START_BAD_OPTION' ? 2 : 1;
  }

  override format(): string {
    return `npm start: ${formatError(this)}`;
  }
}
