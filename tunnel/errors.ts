// Every failure the tunnel layer reports carries a stable code, so the hub and the agent can
// map it to a status or a CLI message without parsing text.

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

export class TunnelError extends Error {
  override readonly name = 'TunnelError';
  constructor(
    readonly code: TunnelErrorCode,
    message: string,
    readonly hint?: string,
    readonly detail: TunnelErrorDetail = {},
  ) {
    super(message);
  }

  /** One line for a CLI: "message (CODE)" plus the hint on a second line. */
  format(): string {
    return `${this.message} (${this.code})${this.hint ? `\nhint: ${this.hint}` : ''}`;
  }
}
