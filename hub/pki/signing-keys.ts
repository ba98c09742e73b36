// The hub's Ed25519 bundle-signing keys, with rotation that never strands an agent:
// a new key is published (topics.signingKeys, retained) before it signs anything, and the old key
// stays trusted for an overlap period after the new one takes over.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyIdOf } from '../../policy/index.ts';
import type { KeysRepo, SigningKeyRecord } from '../store/types.ts';
import { writeSecret } from './files.ts';

export interface RotationTimes {
  /** How long a new key is published before it signs (agents learn it first). */
  activationDelayMs: number;
  /** How long a replaced key stays trusted after the new one took over. */
  overlapMs: number;
}

export class SigningKeys {
  private readonly cache = new Map<string, KeyObject>();

  constructor(
    private readonly repo: KeysRepo,
    private readonly dir: string,
    private readonly times: RotationTimes,
  ) {}

  /** On first start: one key, active at once (no agent exists yet that would need to learn it first). */
  ensure(now: number): void {
    if (!this.repo.list().some((k) => k.activatedAt !== null)) this.create(now, now);
  }

  /** Keys agents should trust now: every key not yet untrusted, including one announced but not yet active. */
  trusted(now: number): SigningKeyRecord[] {
    return this.repo.list().filter((k) => k.untrustedAt === null || k.untrustedAt > now);
  }

  /** The key that signs now: the newest whose activation time has come. */
  active(now: number): { keyId: string; privateKey: KeyObject } {
    const live = this.repo.list().filter((k) => k.activatedAt !== null && k.activatedAt <= now && (k.untrustedAt === null || k.untrustedAt > now));
    const k = live.sort((a, b) => b.activatedAt! - a.activatedAt!)[0];
    if (!k) throw new Error('no active signing key: SigningKeys.ensure() was not called');
    return { keyId: k.keyId, privateKey: this.privateKey(k.keyId) };
  }

  /**
   * Starts a rotation: the new key is trusted at once (publish the trusted set now), signs from
   * now + activationDelayMs, and the current keys stop being trusted overlapMs after that.
   */
  rotate(now: number): SigningKeyRecord {
    const activateAt = now + this.times.activationDelayMs;
    for (const k of this.repo.list()) {
      if (k.retiredAt === null) this.repo.update(k.keyId, { retiredAt: activateAt, untrustedAt: activateAt + this.times.overlapMs });
    }
    return this.create(now, activateAt);
  }

  private create(now: number, activatedAt: number): SigningKeyRecord {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const keyId = keyIdOf(publicKey);
    writeSecret(this.path(keyId), privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const rec: SigningKeyRecord = {
      keyId,
      publicKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
      createdAt: now,
      activatedAt,
      retiredAt: null,
      untrustedAt: null,
    };
    this.repo.add(rec);
    this.cache.set(keyId, privateKey);
    return rec;
  }

  private path(keyId: string): string {
    return join(this.dir, `${keyId}.key`);
  }

  private privateKey(keyId: string): KeyObject {
    let k = this.cache.get(keyId);
    if (!k) {
      const p = this.path(keyId);
      if (!existsSync(p)) throw new Error(`signing key file ${p} is missing`);
      k = createPrivateKey(readFileSync(p));
      if (createPublicKey(k).asymmetricKeyType !== 'ed25519') throw new Error(`${p} is not an Ed25519 key`);
      this.cache.set(keyId, k);
    }
    return k;
  }
}
