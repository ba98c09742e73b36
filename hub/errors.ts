// Errors the hub reports to API clients: a stable code, a message for people, and details for tools.
// Every failure a user can cause is a HubError; anything else reaching the error handler is a bug.
import { WeftError } from '../base/index.ts';
import type { EnrollErrorCode } from '../protocol/index.ts';

export type HubErrorCode =
  | 'BAD_REQUEST'
  | 'BODY_TOO_LARGE'
  | 'RATE_LIMITED'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'INTERNAL'
  | 'SITE_NOT_FOUND'
  | 'SITE_EXISTS'
  | 'SITE_REVOKED'
  | 'SITE_INVALID'
  | 'POLICY_INVALID'
  | 'POLICY_VERSION_NOT_FOUND'
  | 'ROLLOUT_NOT_FOUND'
  | 'ROLLOUT_IN_PROGRESS'
  | 'ROLLOUT_NO_SITES'
  | 'ROLLOUT_NOT_RUNNING'
  | 'ROLLOUT_NOT_PAUSED'
  | 'ROLLOUT_INVALID'
  | 'ROLLBACK_NOTHING'
  | 'RELEASE_NOT_FOUND'
  | 'RELEASE_EXISTS'
  | 'RELEASE_INCOMPLETE'
  | 'RELEASE_MISMATCH'
  | 'RELEASE_HUB_TOO_OLD'
  | 'OVERLAY_EXHAUSTED'
  | 'ENROLL_PEER_UNAVAILABLE'
  | 'LINK_INVALID'
  | 'LINK_NOT_FOUND'
  | 'NODE_NOT_FOUND'
  | EnrollErrorCode;

const STATUS: Record<HubErrorCode, number> = {
  BAD_REQUEST: 400,
  BODY_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  INTERNAL: 500,
  SITE_NOT_FOUND: 404,
  SITE_EXISTS: 409,
  SITE_REVOKED: 409,
  SITE_INVALID: 400,
  POLICY_INVALID: 400,
  POLICY_VERSION_NOT_FOUND: 404,
  ROLLOUT_NOT_FOUND: 404,
  ROLLOUT_IN_PROGRESS: 409,
  ROLLOUT_NO_SITES: 409,
  ROLLOUT_NOT_RUNNING: 409,
  ROLLOUT_NOT_PAUSED: 409,
  ROLLOUT_INVALID: 400,
  ROLLBACK_NOTHING: 409,
  RELEASE_NOT_FOUND: 404,
  RELEASE_EXISTS: 409,
  RELEASE_INCOMPLETE: 409,
  RELEASE_MISMATCH: 400,
  RELEASE_HUB_TOO_OLD: 409,
  OVERLAY_EXHAUSTED: 503,
  ENROLL_PEER_UNAVAILABLE: 503,
  LINK_INVALID: 400,
  LINK_NOT_FOUND: 404,
  ENROLL_TOKEN_INVALID: 401,
  ENROLL_TOKEN_EXPIRED: 401,
  ENROLL_TOKEN_USED: 401,
  ENROLL_SITE_MISMATCH: 403,
  ENROLL_BAD_PROOF: 401,
  ENROLL_KEY_MISMATCH: 403,
  ENROLL_SITE_REVOKED: 403,
  ENROLL_CHALLENGE_REQUIRED: 401,
  ENROLL_CHALLENGE_INVALID: 401,
  ENROLL_WG_KEY_INVALID: 400,
  ENROLL_WG_KEY_IN_USE: 409,
  ENROLL_BUSY: 429,
  ENROLL_NODE_NAME_INVALID: 400,
  ENROLL_SITE_MODE: 409,
  NODE_NOT_FOUND: 404,
};

export class HubError extends WeftError<HubErrorCode> {
  override readonly name = 'HubError';
  readonly status: number;
  constructor(
    code: HubErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(code, message);
    this.status = STATUS[code];
  }
}

export interface ErrorBody {
  code: string;
  message: string;
  details?: unknown;
}
