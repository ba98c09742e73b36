import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deriveSitePassword, issueDerivedCredential, recoverSitePassword, servicePassword } from './nats-credentials.ts';
import { hashPassword, verifyPassword } from './password.ts';

describe('NATS credentials derived from the broker key', () => {
  const key = randomBytes(32);

  it('regenerates a site password from its stored hash and the key alone', () => {
    const c = issueDerivedCredential(key, 'store-1');
    expect(verifyPassword(c.password, c.hash)).toBe(true);
    expect(recoverSitePassword(key, 'store-1', c.hash)).toBe(c.password);
  });

  it('gives nothing for another key, another site, or a random password', () => {
    const c = issueDerivedCredential(key, 'store-1');
    expect(recoverSitePassword(randomBytes(32), 'store-1', c.hash)).toBeNull();
    expect(recoverSitePassword(key, 'store-2', c.hash)).toBeNull();
    expect(recoverSitePassword(key, 'store-1', hashPassword('random'))).toBeNull();
    expect(recoverSitePassword(key, 'store-1', 'garbage')).toBeNull();
  });

  it('draws a new salt, so a new password, on every issue; derivation itself is deterministic', () => {
    expect(issueDerivedCredential(key, 'store-1').password).not.toBe(issueDerivedCredential(key, 'store-1').password);
    const salt = randomBytes(12);
    expect(deriveSitePassword(key, 'store-1', salt)).toBe(deriveSitePassword(key, 'store-1', salt));
  });

  it('gives every hub with the key the same service passwords, distinct per role', () => {
    expect(servicePassword(key, 'hub')).toBe(servicePassword(Buffer.from(key), 'hub'));
    expect(new Set(['hub', 'router', 'route'].map((r) => servicePassword(key, r as 'hub')))).toHaveProperty('size', 3);
  });
});
