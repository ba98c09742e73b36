// WireGuard keys: raw 32-byte X25519 keys, written as standard base64 (44 chars) in configs and
// as lowercase hex on the UAPI wire. Private keys live in a class that refuses to print itself,
// so a stray log line or JSON dump never carries one.
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { TunnelError } from './errors.ts';

const KEY_LEN = 32;
// DER of PKCS#8 PrivateKeyInfo { version 0, algorithm id-X25519 (1.3.101.110), OCTET STRING { OCTET STRING (32) } }.
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const REDACTED = '[WireGuard private key redacted]';

/** Decodes a base64 WireGuard key to its 32 raw bytes; `what` names the key in the error. */
export function decodeKey(b64: string, what = 'key'): Buffer {
  const raw = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/.test(b64) ? Buffer.from(b64, 'base64') : undefined;
  if (!raw || raw.length !== KEY_LEN) {
    throw new TunnelError('TUNNEL_BAD_KEY', `${what} is not a WireGuard key`, 'a key is 32 bytes in standard base64: 44 characters ending in "="');
  }
  return raw;
}

export function isValidKey(b64: string): boolean {
  try {
    decodeKey(b64);
    return true;
  } catch {
    return false;
  }
}

/** base64 key -> the hex form the UAPI protocol uses. */
export function keyToHex(b64: string, what = 'key'): string {
  return decodeKey(b64, what).toString('hex');
}

/** UAPI hex key -> base64. */
export function hexToKey(hex: string, what = 'key'): string {
  if (!/^[0-9a-f]{64}$/i.test(hex)) throw new TunnelError('TUNNEL_BAD_KEY', `${what} is not a 64-digit hex key`);
  return Buffer.from(hex, 'hex').toString('base64');
}

/** Clamping as in `wg genkey` (RFC 7748), so the stored key is exactly what wg would produce. */
function clamp(raw: Buffer): Buffer {
  raw[0] &= 248;
  raw[31] = (raw[31] & 127) | 64;
  return raw;
}

export class WgPrivateKey {
  readonly #raw: Buffer;

  private constructor(raw: Buffer) {
    this.#raw = raw;
  }

  static generate(): WgPrivateKey {
    return new WgPrivateKey(clamp(randomBytes(KEY_LEN)));
  }

  static fromBase64(b64: string): WgPrivateKey {
    return new WgPrivateKey(Buffer.from(decodeKey(b64, 'private key')));
  }

  /** The public key, base64, as `wg pubkey` prints it. */
  publicKey(): string {
    // Node 20 cannot import a JWK private key without its public half, so wrap the raw scalar in PKCS#8.
    const priv = createPrivateKey({ key: Buffer.concat([PKCS8_X25519_PREFIX, this.#raw]), format: 'der', type: 'pkcs8' });
    const spki = createPublicKey(priv).export({ format: 'der', type: 'spki' });
    return spki.subarray(spki.length - KEY_LEN).toString('base64');
  }

  /** The secret itself: only for the key file and the device. Named loudly on purpose. */
  revealBase64(): string {
    return this.#raw.toString('base64');
  }

  revealHex(): string {
    return this.#raw.toString('hex');
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
