// Every failure the tunnel layer reports carries a stable code, so the hub and the agent can
// map it to a status or a CLI message without parsing text.
import { WeftError } from '../base/index.ts';

export type TunnelErrorCode =
  | 'TUNNEL_BAD_KEY'
  | 'TUNNEL_KEY_FILE'
  | 'TUNNEL_UAPI_CONNECT'
  | 'TUNNEL_UAPI_ERRNO'
  | 'TUNNEL_UAPI_PROTOCOL'
  | 'TUNNEL_COMMAND_FAILED'
  | 'TUNNEL_BACKEND_UNAVAILABLE'
  | 'TUNNEL_START_TIMEOUT'
  | 'TUNNEL_BAD_PREFIX'
  | 'TUNNEL_POOL_EXHAUSTED'
  | 'TUNNEL_BAD_CONFIG'
  | 'TUNNEL_NOT_UP';

export interface TunnelErrorDetail {
  /** UAPI errno as wireguard-go sends it (it may be negative, e.g. -22 for EINVAL). */
  errno?: number;
  /** The argv of a failed command. */
  command?: string[];
  stderr?: string;
  /** The file involved (key files). */
  file?: string;
}

export class TunnelError extends WeftError<TunnelErrorCode> {
  override readonly name = 'TunnelError';
  constructor(
    code: TunnelErrorCode,
    message: string,
    hint?: string,
    readonly detail: TunnelErrorDetail = {},
    cause?: unknown,
  ) {
    super(code, message, hint, { cause });
  }
}
