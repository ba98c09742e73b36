// The device identity (Ed25519 for enrollment proofs, X25519 for WireGuard) and what enrollment returned.
// Private keys live only in the 0600 database; the objects handed out redact them in JSON and inspect output.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import { StoreError } from './errors.ts';
import type { StoreContext } from './context.ts';
import type { DeviceIdentity, Enrollment, EnrollmentInput, IdentityStore } from './types.ts';

const REDACTED = '[redacted]';

function b64urlToB64(s: string): string {
  return Buffer.from(s, 'base64url').toString('base64');
}

/** Adds toJSON and util.inspect as non-enumerable properties, so spreads and Object.keys stay plain. */
function redacting<T extends object>(obj: T, view: () => Record<string, unknown>): T & { toJSON(): Record<string, unknown> } {
  Object.defineProperty(obj, 'toJSON', { value: view, enumerable: false });
  Object.defineProperty(obj, inspect.custom, { value: () => view(), enumerable: false });
  return obj as T & { toJSON(): Record<string, unknown> };
}

function makeIdentity(ed: KeyObject, x: KeyObject, createdAt: number): DeviceIdentity {
  if (ed.asymmetricKeyType !== 'ed25519' || x.asymmetricKeyType !== 'x25519' || ed.type !== 'private' || x.type !== 'private') {
    throw new StoreError(
      'STORE_BAD_INPUT',
      `identity: need an Ed25519 and an X25519 private key, got ${ed.asymmetricKeyType}/${ed.type} and ${x.asymmetricKeyType}/${x.type}`,
    );
  }
  const edPub = createPublicKey(ed);
  const xPub = createPublicKey(x);
  const wgPublic = b64urlToB64(xPub.export({ format: 'jwk' }).x!);
  const identityPublicKey = edPub.export({ format: 'der', type: 'spki' }).toString('base64');
  const id = {
    ed25519PrivateKey: ed,
    ed25519PublicKey: edPub,
    x25519PrivateKey: x,
    x25519PublicKey: xPub,
    identityPublicKey,
    wireguardPublicKey: wgPublic,
    createdAt,
    wireguardPrivateKey: () => b64urlToB64(x.export({ format: 'jwk' }).d!),
  };
  return redacting(id, () => ({ identityPublicKey, wireguardPublicKey: wgPublic, createdAt, privateKeys: REDACTED }));
}

interface EnrollmentRow {
  doc: string;
  enrolled_at: number;
  hub_ca_fingerprint: string;
}

function makeEnrollment(input: EnrollmentInput, enrolledAt: number): Enrollment {
  const e = { ...input, broker: { ...input.broker }, enrolledAt };
  return redacting(e, () => ({ ...input, broker: { ...input.broker, password: REDACTED }, enrolledAt }));
}

export function identityStore(ctx: StoreContext): IdentityStore {
  const { db } = ctx;
  const save = (ed: KeyObject, x: KeyObject): DeviceIdentity => {
    const identity = makeIdentity(ed, x, ctx.clock());
    ctx.write('identity.set', () =>
      db
        .prepare(`INSERT INTO identity (id, ed25519_pkcs8, x25519_pkcs8, created_at) VALUES (1, ?, ?, ?)
                  ON CONFLICT (id) DO UPDATE SET ed25519_pkcs8 = excluded.ed25519_pkcs8, x25519_pkcs8 = excluded.x25519_pkcs8, created_at = excluded.created_at`)
        .run(ed.export({ format: 'der', type: 'pkcs8' }), x.export({ format: 'der', type: 'pkcs8' }), identity.createdAt),
    );
    return identity;
  };

  const store: IdentityStore = {
    get() {
      const row = ctx.read('identity.get', () => db.prepare('SELECT ed25519_pkcs8, x25519_pkcs8, created_at FROM identity WHERE id = 1').get()) as
        | { ed25519_pkcs8: Buffer; x25519_pkcs8: Buffer; created_at: number }
        | undefined;
      if (!row) return null;
      const load = (der: Buffer) => createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
      return makeIdentity(load(row.ed25519_pkcs8), load(row.x25519_pkcs8), row.created_at);
    },
    getOrCreate() {
      return store.get() ?? save(generateKeyPairSync('ed25519').privateKey, generateKeyPairSync('x25519').privateKey);
    },
    set: (keys) => save(keys.ed25519PrivateKey, keys.x25519PrivateKey),

    enrollment() {
      const row = ctx.read('identity.enrollment', () => db.prepare('SELECT doc, enrolled_at, hub_ca_fingerprint FROM enrollment WHERE id = 1').get()) as
        | EnrollmentRow
        | undefined;
      if (!row) return null;
      const doc = JSON.parse(row.doc) as EnrollmentInput;
      return makeEnrollment({ ...doc, hubCaFingerprint: row.hub_ca_fingerprint || doc.hubCaFingerprint }, row.enrolled_at);
    },
    saveEnrollment(input) {
      if (!input.siteId || !input.broker?.url) {
        throw new StoreError('STORE_BAD_INPUT', 'identity.saveEnrollment: siteId and broker.url are required');
      }
      const { hubCaFingerprint, ...doc } = input;
      const at = ctx.clock();
      ctx.write('identity.saveEnrollment', () =>
        db
          .prepare(`INSERT INTO enrollment (id, site_id, doc, enrolled_at, hub_ca_fingerprint) VALUES (1, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET site_id = excluded.site_id, doc = excluded.doc, enrolled_at = excluded.enrolled_at,
                    hub_ca_fingerprint = excluded.hub_ca_fingerprint`)
          .run(input.siteId, JSON.stringify(doc), at, hubCaFingerprint),
      );
      return makeEnrollment(input, at);
    },
    updateSigningKeys(keys, version) {
      ctx.write('identity.updateSigningKeys', () => {
        // Keys and version in one statement: a power cut cannot leave new keys with an old version.
        const changed =
          version === undefined
            ? db.prepare(`UPDATE enrollment SET doc = json_set(doc, '$.signingKeys', json(?)) WHERE id = 1`).run(JSON.stringify(keys)).changes
            : db
                .prepare(`UPDATE enrollment SET doc = json_set(doc, '$.signingKeys', json(?), '$.signingKeysVersion', ?) WHERE id = 1`)
                .run(JSON.stringify(keys), version).changes;
        if (changed === 0) throw new StoreError('STORE_NOT_ENROLLED', 'identity.updateSigningKeys: the device is not enrolled', 'run weft-agent enroll first');
      });
    },
    clearEnrollment() {
      ctx.write('identity.clearEnrollment', () => db.prepare('DELETE FROM enrollment').run());
    },
  };
  return store;
}
