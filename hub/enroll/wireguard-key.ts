// A site's WireGuard public key, checked before it is stored: the canonical 44-character base64 form
// WireGuard itself prints, and not one of the small-order points that give every peer the same
// all-zero shared secret (an all-zero key, for one). A key stored unchecked would be refused by the
// tunnel on every later start.
import { createPublicKey, diffieHellman, generateKeyPairSync } from 'node:crypto';
import { isValidKey } from '../../tunnel/index.ts';

const probe = generateKeyPairSync('x25519').privateKey;

export function isUsableWireguardKey(b64: string): boolean {
  if (!isValidKey(b64)) return false;
  try {
    const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(b64, 'base64').toString('base64url') }, format: 'jwk' });
    // OpenSSL refuses a derivation that yields all zeros (a small-order point); check too, in case one does not.
    return diffieHellman({ privateKey: probe, publicKey }).some((b) => b !== 0);
  } catch {
    return false;
  }
}
