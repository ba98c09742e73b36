// The one door to the `openssl` binary: node:crypto makes keys but cannot issue X.509 certificates.
import { ExecError, runSync, WeftError } from '../../base/index.ts';

export class PkiError extends WeftError<'PKI_OPENSSL_MISSING' | 'PKI_OPENSSL_FAILED'> {
  override readonly name = 'PkiError';
}

export function openssl(args: string[], input?: string): string {
  try {
    return runSync(['openssl', ...args], { input: input ?? '' });
  } catch (e) {
    if (!(e instanceof ExecError)) throw e;
    if (e.code === 'EXEC_NOT_FOUND')
      throw new PkiError('PKI_OPENSSL_MISSING', 'openssl not found: install the Debian package "openssl" (scripts/setup.mjs does)');
    throw new PkiError('PKI_OPENSSL_FAILED', `openssl ${args[0]} failed: ${e.stderr || e.message}`, undefined, { cause: e });
  }
}
