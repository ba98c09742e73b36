// Turns SQLite's error codes into StoreErrors a technician can act on.
import { errorMessage } from '../base/index.ts';
import { StoreError } from './errors.ts';

function sqliteCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

export function isCorruption(err: unknown): boolean {
  const code = sqliteCode(err);
  return code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB' || (code?.startsWith('SQLITE_CORRUPT_') ?? false);
}

/** Maps a thrown value to a StoreError; passes StoreErrors through; rethrows what is not SQLite's. */
export function toStoreError(err: unknown, path: string, op: string): StoreError {
  if (err instanceof StoreError) return err;
  const code = sqliteCode(err);
  if (code === undefined) throw err;
  const detail = errorMessage(err);
  if (code === 'SQLITE_FULL') {
    return new StoreError(
      'STORE_DISK_FULL',
      `${op}: the disk holding ${path} is full (${detail})`,
      'free space on that file system (weft-agent doctor shows usage); enforcement continues from the kernel',
      { cause: err },
    );
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return new StoreError(
      'STORE_READ_ONLY',
      `${op}: ${path} is read-only (${detail})`,
      'the file system may have been remounted read-only after I/O errors; check dmesg and the disk',
      { cause: err },
    );
  }
  if (isCorruption(err)) {
    return new StoreError('STORE_CORRUPT', `${op}: ${path} is corrupt (${detail})`, 'restart the agent: it moves the file aside and starts a fresh store', {
      cause: err,
    });
  }
  return new StoreError('STORE_IO', `${op}: ${path}: ${detail} (${code})`, 'check the disk and dmesg', { cause: err });
}
