// Broker passwords: random secrets, stored only as Mosquitto's `$7$` PBKDF2-SHA512 hash, so the one
// hash in the hub store serves both the embedded broker and Mosquitto's password file.
import { pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Mosquitto's own default. The secrets are 256 random bits, so stretching adds nothing against
 * guessing; a low count keeps reconnect storms of thousands of sites cheap for the hub.
 */
export const PBKDF2_ITERATIONS = 101;
const SALT_BYTES = 12;
const HASH_BYTES = 64;

/** A URL-safe random secret (256 bits). */
export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** `$7$<iterations>$<salt b64>$<hash b64>`, the format mosquitto_passwd writes. */
export function hashPassword(password: string, salt: Buffer = randomBytes(SALT_BYTES), iterations = PBKDF2_ITERATIONS): string {
  const hash = pbkdf2Sync(password, salt, iterations, HASH_BYTES, 'sha512');
  return `$7$${iterations}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** Constant-time check of a password against a `$7$` hash; false for any malformed hash. */
export function verifyPassword(password: string, stored: string): boolean {
  const m = /^\$7\$(\d{1,7})\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(stored);
  if (!m) return false;
  const iterations = Number(m[1]);
  const want = Buffer.from(m[3], 'base64');
  if (iterations < 1 || want.length !== HASH_BYTES) return false;
  const got = pbkdf2Sync(password, Buffer.from(m[2], 'base64'), iterations, HASH_BYTES, 'sha512');
  return timingSafeEqual(got, want);
}
