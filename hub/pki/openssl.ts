// The one door to the `openssl` binary: node:crypto makes keys but cannot issue X.509 certificates.
import { execFileSync } from 'node:child_process';

export class PkiError extends Error {
  override readonly name = 'PkiError';
  constructor(
    readonly code: 'PKI_OPENSSL_MISSING' | 'PKI_OPENSSL_FAILED',
    message: string,
  ) {
    super(message);
  }
}

export function openssl(args: string[], input?: string): string {
  try {
    return execFileSync('openssl', args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') throw new PkiError('PKI_OPENSSL_MISSING', 'openssl not found: install the Debian package "openssl" (scripts/setup.mjs does)');
    throw new PkiError('PKI_OPENSSL_FAILED', `openssl ${args[0]} failed: ${err.stderr ?? err.message}`);
  }
}
