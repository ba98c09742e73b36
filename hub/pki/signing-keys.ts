// The hub's Ed25519 bundle-signing keys, with rotation that never strands an agent:
// a new key is published (topics.signingKeys, retained) before it signs anything, and the old key
// stays trusted for an overlap period after the new one takes over.
//
// Beside the active key the hub keeps a standby: trusted by every agent, signing nothing. Revoking a
// compromised key makes the standby active at once and publishes a key set without the revoked key,
// signed by the standby, which agents already trust: one push, no activation delay, no overlap.
// Agents accept a key set only with a higher version (policy/key-set.ts); keys are never deleted
// and an untrusted key stays untrusted, so "keys created + keys untrusted by now" only goes up.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyIdOf } from '../../policy/index.ts';
import { HubError } from '../errors.ts';
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
  /** The key records as last read from the store: trusted() and active() are asked on hot paths and stay synchronous. */
  private records: SigningKeyRecord[] = [];

  constructor(
    private readonly repo: KeysRepo,
    private readonly dir: string,
    private readonly times: RotationTimes,
  ) {}

  /**
   * On first start: one key, active at once (no agent exists yet that would need to learn it first),
   * and a standby. A hub from before standbys gains one, announced with its next key set.
   */
  async ensure(now: number): Promise<void> {
    await this.load();
    if (!this.records.some((k) => k.activatedAt !== null)) await this.create(now, now);
    if (this.standby(now) === undefined) await this.create(now, null);
  }

  /** Reads the key records again (another hub replica may have rotated or revoked). */
  async load(): Promise<void> {
    this.records = await this.repo.list();
  }

  /** The version of the trusted set as of now: it goes up whenever the set changes. */
  version(now: number): number {
    const keys = this.records;
    return keys.length + keys.filter((k) => k.untrustedAt !== null && k.untrustedAt <= now).length;
  }

  /**
   * Emergency revocation: the key is untrusted now. If it was the one signing, the standby takes over
   * at once and a new standby is made. Publish the key set right after (BundleService.publishKeys).
   */
  async revoke(keyId: string, now: number): Promise<{ revoked: string; active: string }> {
    await this.load();
    const k = this.records.find((x) => x.keyId === keyId);
    if (!k || (k.untrustedAt !== null && k.untrustedAt <= now)) throw new HubError('NOT_FOUND', `no trusted signing key ${keyId}`);
    const others = this.trusted(now).filter((x) => x.keyId !== keyId);
    if (others.length === 0) throw new HubError('CONFLICT', `${keyId} is the only trusted key: no other key could sign the set that drops it`);
    const wasActive = this.active(now).keyId === keyId;
    await this.repo.update(keyId, { retiredAt: k.retiredAt ?? now, untrustedAt: now });
    await this.load();
    const next = wasActive || !this.live(now).length ? (this.standby(now) ?? (this.live(now).length ? undefined : others[0])) : undefined;
    if (next) await this.repo.update(next.keyId, { activatedAt: now });
    await this.load();
    if (this.standby(now) === undefined) await this.create(now, null);
    return { revoked: keyId, active: this.active(now).keyId };
  }

  /** Keys agents should trust now: every key not yet untrusted, including one announced but not yet active. */
  trusted(now: number): SigningKeyRecord[] {
    return this.records.filter((k) => k.untrustedAt === null || k.untrustedAt > now);
  }

  /** The key that signs now: the newest whose activation time has come. */
  active(now: number): { keyId: string; privateKey: KeyObject } {
    const k = this.live(now).sort((a, b) => b.activatedAt! - a.activatedAt!)[0];
    if (!k) throw new Error('no active signing key: SigningKeys.ensure() or load() was not called');
    return { keyId: k.keyId, privateKey: this.privateKey(k.keyId) };
  }

  /**
   * Starts a rotation: the new key is trusted at once (publish the trusted set now), signs from
   * now + activationDelayMs, and the current signing keys stop being trusted overlapMs after that.
   * The standby stays standby.
   */
  async rotate(now: number): Promise<SigningKeyRecord> {
    const activateAt = now + this.times.activationDelayMs;
    for (const k of await this.repo.list()) {
      if (k.retiredAt === null && k.activatedAt !== null)
        await this.repo.update(k.keyId, { retiredAt: activateAt, untrustedAt: activateAt + this.times.overlapMs });
    }
    return this.create(now, activateAt);
  }

  /**
   * The key that signs key sets: the live key trusted longest. Agents learned it from an earlier set,
   * so they can verify the set that announces a newer key (with no activation delay, the newest live
   * key may be the one being announced).
   */
  keySetSigner(now: number): { keyId: string; privateKey: KeyObject } {
    const k = this.live(now).sort((a, b) => a.createdAt - b.createdAt)[0];
    if (!k) throw new Error('no active signing key: SigningKeys.ensure() was not called');
    return { keyId: k.keyId, privateKey: this.privateKey(k.keyId) };
  }

  private live(now: number): SigningKeyRecord[] {
    return this.records.filter((k) => k.activatedAt !== null && k.activatedAt <= now && (k.untrustedAt === null || k.untrustedAt > now));
  }

  private standby(now: number): SigningKeyRecord | undefined {
    return this.trusted(now).find((k) => k.activatedAt === null);
  }

  private async create(now: number, activatedAt: number | null): Promise<SigningKeyRecord> {
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
    await this.repo.add(rec);
    this.cache.set(keyId, privateKey);
    await this.load();
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
