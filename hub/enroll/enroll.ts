// POST /v1/enroll (protocol/enroll.ts): a device proves it holds its identity key, spends a one-time
// token bound to its site (or, re-enrolling, a one-time hub challenge), and gets broker credentials,
// signing keys and its tunnel configuration.
//
// Nothing changes unless the whole enrollment succeeds. Everything is checked first (proof, WireGuard
// key, token, challenge, overlay address); then the tunnel peer is set, because it is the one step that
// can fail outside the store; then ONE transaction spends the token and the challenge, binds the keys
// and writes the credential, re-checking what a concurrent enrollment could have changed. If that
// transaction fails, the peer is put back as the store has it. Enrollments run one at a time per store.
import { errorMessage } from '../../base/index.ts';
import { createPublicKey, randomBytes, verify, type KeyObject } from 'node:crypto';
import { enrollProofMessage, type EnrollChallenge, type EnrollRequest, type EnrollResponse } from '../../protocol/index.ts';
import { HubError } from '../errors.ts';
import { hashSecret } from '../auth/secrets.ts';
import { hashPassword, randomSecret } from '../broker/password.ts';
import type { HubStore, SigningKeyRecord, SiteRecord, StoreRepos } from '../store/types.ts';
import { TunnelError, type OverlayPlan } from '../../tunnel/index.ts';
import type { Peers } from './peers.ts';
import { isUsableWireguardKey } from './wireguard-key.ts';
import { enrollNode } from './enroll-node.ts';

export interface EnrollSettings {
  /** Broker URL as a site sees it (inside the tunnel). */
  brokerUrl: string;
  /** Every broker address of a clustered broker (NATS), the first being brokerUrl: the agent fails over between them. */
  brokerUrls?: string[];
  wireguard: { hubPublicKey: string; hubEndpoint: string; persistentKeepaliveS: number; mtu: number };
  heartbeatIntervalS: number;
}

export interface EnrollDeps {
  store: HubStore;
  overlay: OverlayPlan;
  peers: Peers;
  trustedKeys: () => SigningKeyRecord[];
  /** The version of that set (SigningKeys.version): the agent accepts only signed key sets above it. */
  keySetVersion: () => number;
  settings: EnrollSettings;
  now: () => number;
  /** Told after a site's record changed (enrolled): the directory emits, file-fed brokers reload, before the agent gets its credentials. */
  onEnrolled: (site: SiteRecord) => Promise<void> | void;
  /**
   * A new broker password and its `$7$` hash for the store. Default: a random secret. A NATS-mode hub
   * derives it from its broker key (hub/broker/nats-credentials.ts) so it can write it into the cluster's
   * authorization without storing it. Keyed by the broker username (the site id, or `<siteId>.<node>`).
   */
  issueCredential?: (username: string) => { password: string; hash: string };
}

export function randomCredential(): { password: string; hash: string } {
  const password = randomSecret();
  return { password, hash: hashPassword(password) };
}

/** Long enough for a slow uplink to do two requests; short enough that few are outstanding. */
export const CHALLENGE_TTL_MS = 5 * 60_000;
/** Outstanding challenges (the endpoint is public): past this, new ones wait for old ones to expire. */
export const MAX_CHALLENGES = 10_000;

/** A fresh one-time challenge; only its hash is stored. */
export async function issueChallenge(deps: Pick<EnrollDeps, 'store' | 'now'>): Promise<EnrollChallenge> {
  const challenge = randomBytes(24).toString('base64url');
  const now = deps.now();
  const expiresAt = now + CHALLENGE_TTL_MS;
  if (!(await deps.store.tx((tx) => tx.tokens.addChallenge(hashSecret(challenge), expiresAt, now, MAX_CHALLENGES)))) {
    throw new HubError('ENROLL_BUSY', 'too many enrollment challenges are outstanding: retry in a few minutes');
  }
  return { challenge, expiresAt: new Date(expiresAt).toISOString() };
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
  if (!isUsableWireguardKey(req.wireguardPublicKey)) {
    throw new HubError(
      'ENROLL_WG_KEY_INVALID',
      'wireguardPublicKey must be a usable X25519 public key: 44 characters of standard base64, not a small-order point',
    );
  }
  const ok = verify(null, Buffer.from(enrollProofMessage(req), 'utf8'), key, Buffer.from(req.proof, 'base64'));
  if (!ok) throw new HubError('ENROLL_BAD_PROOF', 'proof does not verify with identityPublicKey');
}

/** What the request may do: `enroll` binds a new device key, `reenroll` renews the known one. */
interface Grant {
  site: SiteRecord;
  kind: 'enroll' | 'reenroll';
  /** The token to spend; null on a re-enrollment by challenge alone. */
  tokenHash: string | null;
}

/**
 * Who may enroll. A caller holding neither a valid token nor the site's device key learns nothing
 * about the site, not even whether its name exists: every such request is ENROLL_TOKEN_INVALID.
 */
async function authorize(store: HubStore, req: EnrollRequest, now: number): Promise<Grant> {
  const site = await store.sites.byName(req.siteName);
  const known = site !== undefined && site.state === 'enrolled' && site.identityKey === req.identityPublicKey;
  if (req.token) {
    const hash = hashSecret(req.token);
    const t = await store.tokens.enrollToken(hash);
    if (!t) throw new HubError('ENROLL_TOKEN_INVALID', 'unknown enrollment token');
    if (!site || t.siteId !== site.id) throw new HubError('ENROLL_SITE_MISMATCH', `the token was issued for another site than ${req.siteName}`);
    if (site.state === 'revoked') throw new HubError('ENROLL_SITE_REVOKED', `site ${site.name} is revoked`);
    if (t.forNodes) {
      throw new HubError('ENROLL_SITE_MODE', `the token enrolls nodes of site ${site.name}: the agent must give its node name`, {
        hint: 'set nodeName in the agent config (the DaemonSet sets it from spec.nodeName)',
      });
    }
    if ((await store.nodes.list(site.id)).some((n) => n.state === 'enrolled')) {
      throw new HubError('ENROLL_SITE_MODE', `site ${site.name} has nodes: a device joins it as a node, with a node token (weft site token --nodes N)`);
    }
    if (t.usedAt !== null) {
      // The device retrying after its answer was lost: its own key holds the site; a fresh challenge proves it is not a replay.
      if (known && req.challenge !== undefined) return { site, kind: 'reenroll', tokenHash: null };
      throw new HubError('ENROLL_TOKEN_USED', 'the enrollment token was already used (or replaced by a newer one): ask ops for a new one (weft site token)');
    }
    if (t.expiresAt <= now) throw new HubError('ENROLL_TOKEN_EXPIRED', 'the enrollment token expired: ask ops for a new one (weft site token)');
    return { site, kind: known ? 'reenroll' : 'enroll', tokenHash: hash };
  }
  if (known) {
    if (req.challenge === undefined) {
      throw new HubError('ENROLL_CHALLENGE_REQUIRED', 're-enrolling without a token needs a challenge from POST /v1/enroll/challenge signed into the proof');
    }
    return { site, kind: 'reenroll', tokenHash: null };
  }
  throw new HubError('ENROLL_TOKEN_INVALID', 'an enrollment token is required: this device key is not enrolled for a site of that name');
}

export async function checkKeyFree(store: StoreRepos, deps: EnrollDeps, site: SiteRecord, wgKey: string): Promise<void> {
  const holders = [...(await store.sites.holdersOfWireguardKey(wgKey, site.id)), ...(await store.nodes.holdersOfWireguardKey(wgKey, null))];
  if (holders.length > 0 || wgKey === deps.settings.wireguard.hubPublicKey) {
    throw new HubError('ENROLL_WG_KEY_IN_USE', `site ${site.name} presents a WireGuard public key that another site or the hub uses`, {
      hint: 'every device makes its own WireGuard key',
    });
  }
}

export async function overlayIndex(deps: EnrollDeps, site: Pick<SiteRecord, 'overlayIndex'>): Promise<number> {
  if (site.overlayIndex !== null) return site.overlayIndex;
  // The used set is read only when the prefix's end was reached (a scan of every site).
  const highest = await deps.store.sites.maxOverlayIndex();
  // Hub nodes' own addresses are never a site's.
  const reserved = new Set((await deps.store.cluster.nodes()).map((n) => n.overlayIndex));
  const used = deps.overlay.freshAfter(highest, reserved) ? new Set<number>() : await deps.store.sites.usedOverlayIndexes();
  try {
    return deps.overlay.allocate(highest, () => used, reserved);
  } catch (e) {
    if (e instanceof TunnelError && e.code === 'TUNNEL_POOL_EXHAUSTED') throw new HubError('OVERLAY_EXHAUSTED', `${e.message}: ${e.hint}`);
    throw e;
  }
}

/** After a failed transaction: the peer as the store has it (the store is the truth; a failure here is mended at the next start). */
async function restorePeer(deps: EnrollDeps, siteId: string): Promise<void> {
  try {
    const s = await deps.store.sites.get(siteId);
    if (s?.state === 'enrolled' && s.wireguardKey && s.overlayIndex !== null)
      await deps.peers.addPeer(siteId, s.wireguardKey, deps.overlay.hostRoutes(s.overlayIndex));
    else await deps.peers.removePeer(siteId);
  } catch {
    // The enrollment already failed with its own error; the next start reconciles every peer.
  }
}

const queues = new WeakMap<HubStore, Promise<unknown>>();

/** One enrollment at a time per store: the peer step sits between the checks and the transaction. */
function serially<T>(store: HubStore, fn: () => Promise<T>): Promise<T> {
  const run = (queues.get(store) ?? Promise.resolve()).then(fn, fn);
  queues.set(
    store,
    run.catch(() => undefined),
  );
  return run;
}

export async function enroll(req: EnrollRequest, deps: EnrollDeps): Promise<EnrollResponse> {
  checkProof(req);
  if (req.nodeName !== undefined) return serially(deps.store, () => enrollNode(req, deps));
  return serially(deps.store, () => enrollChecked(req, deps));
}

/** The answer every enrollment gives: the broker (every hub broker URL past one), the signing keys and the tunnel. */
export async function enrollAnswer(deps: EnrollDeps, siteId: string, username: string, password: string, addresses: string[]): Promise<EnrollResponse> {
  const s = deps.settings;
  // Past one hub machine: every registered node, each a peer of the site's tunnel (tunnel/site-tunnel.ts).
  const hubs = (await deps.store.cluster.nodes()).map((n) => ({
    name: n.name,
    publicKey: n.wireguardKey,
    endpoint: n.endpoint,
    addresses: deps.overlay.hostRoutes(n.overlayIndex),
  }));
  return {
    siteId,
    broker: { url: s.brokerUrl, ...(s.brokerUrls && s.brokerUrls.length > 1 ? { urls: s.brokerUrls } : {}), username, password },
    signingKeys: deps.trustedKeys().map((k) => ({ keyId: k.keyId, publicKey: k.publicKey })),
    signingKeysVersion: deps.keySetVersion(),
    wireguard: {
      hubPublicKey: s.wireguard.hubPublicKey,
      hubEndpoint: s.wireguard.hubEndpoint,
      addresses,
      hubAddresses: deps.overlay.hostRoutes(1),
      persistentKeepaliveS: s.wireguard.persistentKeepaliveS,
      mtu: s.wireguard.mtu,
      ...(hubs.length ? { hubs } : {}),
    },
    heartbeatIntervalS: s.heartbeatIntervalS,
  };
}

async function enrollChecked(req: EnrollRequest, deps: EnrollDeps): Promise<EnrollResponse> {
  const { store, overlay } = deps;
  const t = deps.now();
  const { site, kind, tokenHash } = await authorize(store, req, t);
  await checkKeyFree(store, deps, site, req.wireguardPublicKey);
  const challengeHash = req.challenge === undefined ? null : hashSecret(req.challenge);
  if (challengeHash !== null && !(await store.tokens.hasChallenge(challengeHash, t))) {
    throw new HubError('ENROLL_CHALLENGE_INVALID', 'the challenge is unknown, used or expired: fetch a new one (POST /v1/enroll/challenge)');
  }
  const index = await overlayIndex(deps, site);
  const addresses = overlay.hostRoutes(index);

  try {
    await deps.peers.addPeer(site.id, req.wireguardPublicKey, addresses);
  } catch (e) {
    await restorePeer(deps, site.id);
    throw new HubError('ENROLL_PEER_UNAVAILABLE', `the tunnel peer could not be configured (${errorMessage(e)}); nothing was changed: retry the enrollment`);
  }

  const { password, hash } = (deps.issueCredential ?? randomCredential)(site.id);
  let enrolled: SiteRecord;
  try {
    enrolled = await store.tx(
      async (tx) => {
        if (tokenHash !== null) {
          if (!(await tx.tokens.useEnrollToken(tokenHash, t)))
            throw new HubError('ENROLL_TOKEN_USED', 'the enrollment token was used by a concurrent enrollment');
          // Older tokens for this site die with it: a second device cannot take the site with one.
          await tx.tokens.invalidateSiteTokens(site.id, t);
        }
        if (challengeHash !== null && !(await tx.tokens.useChallenge(challengeHash, t))) {
          throw new HubError('ENROLL_CHALLENGE_INVALID', 'the challenge was used by a concurrent enrollment');
        }
        await checkKeyFree(tx, deps, site, req.wireguardPublicKey);
        if (site.overlayIndex === null && (await tx.sites.usedOverlayIndexes()).has(index)) {
          throw new HubError('OVERLAY_EXHAUSTED', 'the overlay address was taken by a concurrent enrollment: retry');
        }
        await tx.sites.update(site.id, {
          state: 'enrolled',
          identityKey: req.identityPublicKey,
          wireguardKey: req.wireguardPublicKey,
          overlayIndex: index,
          enrolledAt: site.enrolledAt ?? t,
        });
        // The same device renewing keeps its working password until it uses the new one (the answer may
        // never reach it); a new device's password replaces the old device's at once.
        if (kind === 'reenroll' && (await tx.sites.credentialHash(site.id)) !== undefined) await tx.sites.setPendingCredential(site.id, hash);
        else await tx.sites.setCredential(site.id, hash, t);
        await tx.audit.record({
          at: t,
          actor: `site/${site.id}`,
          action: kind === 'reenroll' ? 'site.reenroll' : 'site.enroll',
          target: `site/${site.id}`,
          details: { agentVersion: req.agentVersion, wireguardPublicKey: req.wireguardPublicKey, withToken: tokenHash !== null },
        });
        return (await tx.sites.get(site.id))!;
        // The password leaves the hub in the answer: it must survive a power cut.
      },
      { durable: true },
    );
  } catch (e) {
    await restorePeer(deps, site.id);
    throw e;
  }
  await deps.onEnrolled(enrolled);

  return enrollAnswer(deps, site.id, site.id, password, addresses);
}
