// Bearer secrets (API tokens, enrollment tokens, site broker passwords): random, shown once, stored as sha256.
// sha256 suffices because the secrets carry 192 bits of randomness: nothing to brute-force. Lookups
// are by hash, so the secret itself never meets a comparison an attacker could time.
import { createHash, randomBytes } from 'node:crypto';

export function newSecret(prefix: string): string {
  return `${prefix}_${randomBytes(24).toString('base64url')}`;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}
