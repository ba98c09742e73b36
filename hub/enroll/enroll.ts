// POST /v1/enroll (protocol/enroll.ts): a device proves it holds its identity key, spends a one-time
// token bound to its site, and gets broker credentials, signing keys and its tunnel configuration.
// Token consumption, key binding, overlay address and credential creation are ONE transaction:
// if any step fails nothing is written and the token stays usable until it expires.
import { errorMessage } from '../../base/index.ts';
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { enrollProofMessage, type EnrollRequest, type EnrollResponse } from '../../protocol/index.ts';
import { HubError } from '../errors.ts';
import { hashSecret } from '../auth/secrets.ts';
import { hashPassword, randomSecret } from '../broker/password.ts';
import type { HubStore, SigningKeyRecord, SiteRecord } from '../store/types.ts';
import { OverlayError, type OverlayPlan } from './overlay.ts';
import type { Peers } from './peers.ts';

export interface EnrollSettings {
  /** Broker URL as a site sees it (inside the tunnel). */
  brokerUrl: string;
  wireguard: { hubPublicKey: string; hubEndpoint: string; persistentKeepaliveS: number; mtu: number };
  heartbeatIntervalS: number;
}

export interface EnrollDeps {
  store: HubStore;
  overlay: OverlayPlan;
  peers: Peers;
  trustedKeys: () => SigningKeyRecord[];
  settings: EnrollSettings;
  now: () => number;
  /** Told after a site's record changed (enrolled): the directory emits, file-fed brokers reload, before the agent gets its credentials. */
  onEnrolled: (site: SiteRecord) => Promise<void> | void;
}

function identityKey(b64: string): KeyObject {
  try {
    const k = createPublicKey({ key: Buffer.from(b64, 'base64'), format: 'der', type: 'spki' });
    if (k.asymmetricKeyType === 'ed25519') return k;
  } catch {
    // reported below
  }
  throw new HubError('ENROLL_BAD_PROOF', 'identityPublicKey must be a base64 SPKI DER Ed25519 public key');
}

function checkProof(req: EnrollRequest): void {
  const key = identityKey(req.identityPublicKey);
  if (Buffer.from(req.wireguardPublicKey, 'base64').length !== 32) {
    throw new HubError('ENROLL_BAD_PROOF', 'wireguardPublicKey must be base64 of a 32-byte X25519 key');
  }
  const ok = verify(null, Buffer.from(enrollProofMessage(req), 'utf8'), key, Buffer.from(req.proof, 'base64'));
  if (!ok) throw new HubError('ENROLL_BAD_PROOF', 'proof does not verify with identityPublicKey');
}

/** Checks the token against the site; throws the precise reason it cannot be spent. */
function checkToken(store: HubStore, token: string, site: SiteRecord, now: number): string {
  const hash = hashSecret(token);
  const t = store.tokens.enrollToken(hash);
  if (!t) throw new HubError('ENROLL_TOKEN_INVALID', 'unknown enrollment token');
  if (t.siteId !== site.id) throw new HubError('ENROLL_SITE_MISMATCH', `the token was issued for another site than ${site.name}`);
  if (t.usedAt !== null) throw new HubError('ENROLL_TOKEN_USED', 'the enrollment token was already used: ask ops for a new one (weft site token)');
  if (t.expiresAt <= now) throw new HubError('ENROLL_TOKEN_EXPIRED', 'the enrollment token expired: ask ops for a new one (weft site token)');
  return hash;
}

export async function enroll(req: EnrollRequest, deps: EnrollDeps): Promise<EnrollResponse> {
  const { store, overlay, now } = deps;
  const site = store.sites.byName(req.siteName);
  if (!site) throw new HubError('ENROLL_TOKEN_INVALID', `no site named ${req.siteName}`);
  if (site.state === 'revoked') throw new HubError('ENROLL_SITE_REVOKED', `site ${site.name} is revoked`);
  checkProof(req);

  const t = now();
  const sameKey = site.state === 'enrolled' && site.identityKey === req.identityPublicKey;
  let tokenHash: string | null = null;
  if (!sameKey) {
    if (!req.token) {
      throw site.state === 'enrolled'
        ? new HubError('ENROLL_KEY_MISMATCH', `site ${site.name} is enrolled with another device key: a new device needs a new token`)
        : new HubError('ENROLL_TOKEN_INVALID', 'an enrollment token is required');
    }
    tokenHash = checkToken(store, req.token, site, t);
  }

  const password = randomSecret();
  const enrolled = store.tx(() => {
    // Order matters for atomicity, not correctness: whatever fails, the transaction undoes all of it.
    if (tokenHash !== null && !store.tokens.useEnrollToken(tokenHash, t)) {
      throw new HubError('ENROLL_TOKEN_USED', 'the enrollment token was used by a concurrent enrollment');
    }
    let index = site.overlayIndex;
    if (index === null) {
      try {
        index = overlay.allocate(store.sites.maxOverlayIndex(), () => store.sites.usedOverlayIndexes());
      } catch (e) {
        if (e instanceof OverlayError) throw new HubError('OVERLAY_EXHAUSTED', e.message);
        throw e;
      }
    }
    store.sites.update(site.id, {
      state: 'enrolled',
      identityKey: req.identityPublicKey,
      wireguardKey: req.wireguardPublicKey,
      overlayIndex: index,
      enrolledAt: site.enrolledAt ?? t,
    });
    store.sites.setCredential(site.id, hashPassword(password), t);
    store.audit.record({
      at: t,
      actor: `site/${site.id}`,
      action: sameKey ? 'site.reenroll' : 'site.enroll',
      target: `site/${site.id}`,
      details: { agentVersion: req.agentVersion, wireguardPublicKey: req.wireguardPublicKey, withToken: tokenHash !== null },
    });
    return store.sites.get(site.id)!;
  });
  await deps.onEnrolled(enrolled);

  const addr = overlay.addresses(enrolled.overlayIndex!);
  const hub = overlay.hub();
  const addresses = [`${addr.v4}/32`, `${addr.v6}/128`];
  try {
    await deps.peers.addPeer(site.id, req.wireguardPublicKey, addresses);
  } catch (e) {
    // The store is the truth; the peer is reconciled at the next start or the agent's retry (same key: no token needed).
    throw new HubError('ENROLL_PEER_UNAVAILABLE', `enrolled, but the tunnel peer could not be configured (${errorMessage(e)}): retry the enrollment`);
  }
  const s = deps.settings;
  return {
    siteId: site.id,
    broker: { url: s.brokerUrl, username: site.id, password },
    signingKeys: deps.trustedKeys().map((k) => ({ keyId: k.keyId, publicKey: k.publicKey })),
    wireguard: {
      hubPublicKey: s.wireguard.hubPublicKey,
      hubEndpoint: s.wireguard.hubEndpoint,
      addresses,
      hubAddresses: [`${hub.v4}/32`, `${hub.v6}/128`],
      persistentKeepaliveS: s.wireguard.persistentKeepaliveS,
      mtu: s.wireguard.mtu,
    },
    heartbeatIntervalS: s.heartbeatIntervalS,
  };
}
