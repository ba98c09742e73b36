// Broker passwords a NATS cluster can be given without the hub storing any plaintext.
//
// nats-server accepts only plaintext or bcrypt passwords in its authorization. bcrypt costs tens of
// milliseconds per CONNECT, too slow for thousands of sites reconnecting after a node dies; plaintext
// must then come from somewhere. So in NATS mode a site's password is not random but derived:
// HMAC-SHA256(broker key, "weft-site-v1\n" + site id + "\n" + salt), and the salt is the one of the
// `$7$` hash the store already keeps. Any hub holding the broker key regenerates every site's password
// from the store when it writes the authorization; the store alone (a dump, a backup) reveals nothing.
// A new enrollment draws a new salt, so a re-enrolled device gets a new password.
import { createHmac, randomBytes } from 'node:crypto';
import { hashPassword, verifyPassword } from './password.ts';

const SALT_BYTES = 12;

/** The users every node knows besides the sites: the hub itself, read-only routers, and cluster routes. */
export type ServiceRole = 'hub' | 'router' | 'route';

function hmac(key: Buffer, text: string): string {
  return createHmac('sha256', key).update(text, 'utf8').digest('base64url');
}

export function deriveSitePassword(key: Buffer, siteId: string, salt: Buffer): string {
  return hmac(key, `weft-site-v1\n${siteId}\n${salt.toString('base64')}`);
}

/** A new site credential: the password for the enrollment answer, and its `$7$` hash for the store. */
export function issueDerivedCredential(key: Buffer, siteId: string, salt: Buffer = randomBytes(SALT_BYTES)): { password: string; hash: string } {
  const password = deriveSitePassword(key, siteId, salt);
  return { password, hash: hashPassword(password, salt) };
}

/**
 * The site's password regenerated from its stored hash; null when the hash was not made this way with
 * this key (a site enrolled under another broker, or another key): such a site must re-enroll.
 */
export function recoverSitePassword(key: Buffer, siteId: string, storedHash: string): string | null {
  const m = /^\$7\$\d{1,7}\$([A-Za-z0-9+/=]+)\$/.exec(storedHash);
  if (!m) return null;
  const password = deriveSitePassword(key, siteId, Buffer.from(m[1], 'base64'));
  return verifyPassword(password, storedHash) ? password : null;
}

/** The same on every hub holding the key, so every replica writes the same users for every node. */
export function servicePassword(key: Buffer, role: ServiceRole): string {
  return hmac(key, `weft-service-v1\n${role}`);
}
