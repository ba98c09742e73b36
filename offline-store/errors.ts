// Typed store errors: the agent maps codes to doctor checks and metrics, and a person reads the message.
import { WeftError } from '../base/index.ts';

export type StoreErrorCode =
  | 'STORE_DISK_FULL'
  | 'STORE_READ_ONLY'
  | 'STORE_CORRUPT'
  | 'STORE_IO'
  | 'STORE_NEWER_SCHEMA'
  | 'STORE_MIGRATION_FAILED'
  | 'STORE_NOT_FOUND'
  | 'STORE_NOT_ENROLLED'
  | 'STORE_BAD_INPUT'
  | 'STORE_OUTBOX_FULL'
  | 'STORE_OUTBOX_RECORD_TOO_LARGE'
  | 'STORE_CLOSED';

export class StoreError extends WeftError<StoreErrorCode> {
  override readonly name = 'StoreError';
  constructor(code: StoreErrorCode, message: string, hint?: string, options: { cause?: unknown } = {}) {
    super(code, message, hint, options);
  }
}
