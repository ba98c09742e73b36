// The hub store's coded errors, shared by both backends.
import { WeftError } from '../../base/index.ts';

export type StoreErrorCode = 'STORE_TOO_NEW' | 'STORE_MIGRATION_FAILED' | 'STORE_UNAVAILABLE' | 'STORE_BAD_URL' | 'STORE_LEASE_LOST';

export class StoreError extends WeftError<StoreErrorCode> {
  override readonly name = 'StoreError';
}
