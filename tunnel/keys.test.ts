import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { inspect } from 'node:util';
import { decodeKey, hexToKey, isValidKey, keyToHex, WgPrivateKey } from './keys.ts';
import { TunnelError } from './errors.ts';

const wg = (args: string[], input?: string) => execFileSync('wg', args, { input, encoding: 'utf8' }).trim();

describe('WireGuard keys', () => {
  it('derives the same public key as `wg pubkey`, for our keys and for `wg genkey` keys', () => {
    for (let i = 0; i < 5; i++) {
      const ours = WgPrivateKey.generate();
      expect(ours.publicKey()).toBe(wg(['pubkey'], ours.revealBase64()));
      const theirs = wg(['genkey']);
      expect(WgPrivateKey.fromBase64(theirs).publicKey()).toBe(wg(['pubkey'], theirs));
    }
  });

  it('generates clamped keys like wg genkey', () => {
    const raw = Buffer.from(WgPrivateKey.generate().revealBase64(), 'base64');
    expect(raw[0] & 7).toBe(0);
    expect(raw[31] & 0xc0).toBe(0x40);
  });

  it('round-trips base64 and hex', () => {
    const pub = WgPrivateKey.generate().publicKey();
    expect(keyToHex(pub)).toMatch(/^[0-9a-f]{64}$/);
    expect(hexToKey(keyToHex(pub))).toBe(pub);
  });

  it.each([
    ['empty', ''],
    ['short', 'AAAA'],
    ['31 bytes', Buffer.alloc(31).toString('base64')],
    ['33 bytes', Buffer.alloc(33).toString('base64')],
    ['not base64', '!'.repeat(43) + '='],
    ['non-canonical last char', 'A'.repeat(42) + 'B='],
  ])('rejects a %s key with TUNNEL_BAD_KEY', (_n, key) => {
    expect(isValidKey(key)).toBe(false);
    expect(() => decodeKey(key, 'peer key')).toThrow(expect.objectContaining({ code: 'TUNNEL_BAD_KEY', message: 'peer key is not a WireGuard key' }));
    expect(() => decodeKey(key)).toThrow(TunnelError);
  });

  it('never prints the private key: JSON, inspect, template strings', () => {
    const key = WgPrivateKey.generate();
    const secret = key.revealBase64();
    const outputs = [JSON.stringify({ key }), inspect({ key }), `${key}`, String(key)];
    for (const out of outputs) {
      expect(out).not.toContain(secret);
      expect(out).toContain('redacted');
    }
  });
});
