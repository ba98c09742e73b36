// POST /v1/enroll with a nodeName: a device joins a multi-node site as one of its nodes (issue 19).
//
// A node token (weft site token --nodes N) is good for N node enrollments of its site; each spends one
// use, and a node's record (hub/store NodesRepo) holds its own device key, WireGuard key and overlay
// address, and its own broker credential (username `<siteId>.<node>`). A second device presenting a known
// node name with a fresh use of a token replaces that node's device (new keys, same overlay address): the
// other nodes are not touched. The same device renews with a challenge alone, as a one-device site does.
//
// The order is enroll.ts's: every check first, then the tunnel peer (the one step that can fail outside
// the store), then one transaction that spends the use and the challenge and binds the keys.
import { errorMessage } from '../../base/index.ts';
import { NODE_NAME_RE, nodeUsername, type EnrollRequest, type EnrollResponse } from '../../protocol/index.ts';
import { HubError } from '../errors.ts';
import { hashSecret } from '../auth/secrets.ts';
import type { SiteNodeRecord, SiteRecord, StoreRepos } from '../store/types.ts';
import { enrollAnswer, overlayIndex, randomCredential, type EnrollDeps } from './enroll.ts';

interface NodeGrant {
  site: SiteRecord;
  node: SiteNodeRecord | undefined;
  kind: 'enroll' | 'reenroll';
  tokenHash: string | null;
}

async function authorizeNode(deps: EnrollDeps, req: EnrollRequest & { nodeName: string }, now: number): Promise<NodeGrant> {
  const { store } = deps;
  const site = await store.sites.byName(req.siteName);
  const node = site ? await store.nodes.get(site.id, req.nodeName) : undefined;
  const known = node !== undefined && node.state === 'enrolled' && node.identityKey === req.identityPublicKey;
  if (req.token) {
    const hash = hashSecret(req.token);
    const t = await store.tokens.enrollToken(hash);
    if (!t) throw new HubError('ENROLL_TOKEN_INVALID', 'unknown enrollment token');
    if (!site || t.siteId !== site.id) throw new HubError('ENROLL_SITE_MISMATCH', `the token was issued for another site than ${req.siteName}`);
    if (site.state === 'revoked') throw new HubError('ENROLL_SITE_REVOKED', `site ${site.name} is revoked`);
    if (!t.forNodes || site.identityKey !== null) {
      throw new HubError('ENROLL_SITE_MODE', `site ${site.name} is a one-device site: its token enrolls one device, without a node name`, {
        hint: 'for a site of several nodes, issue a node token (weft site token --nodes N) before any device enrolls',
      });
    }
    if (t.usedAt !== null) {
      if (known && req.challenge !== undefined) return { site, node, kind: 'reenroll', tokenHash: null };
      throw new HubError(
        'ENROLL_TOKEN_USED',
        `every use of the node token is spent (${t.maxUses ?? 1} nodes): ask ops for another (weft site token --nodes N)`,
      );
    }
    if (t.expiresAt <= now) throw new HubError('ENROLL_TOKEN_EXPIRED', 'the enrollment token expired: ask ops for a new one (weft site token --nodes N)');
    return { site, node, kind: known ? 'reenroll' : 'enroll', tokenHash: hash };
  }
  if (known && site) return { site, node, kind: 'reenroll', tokenHash: null };
  throw new HubError('ENROLL_TOKEN_INVALID', 'an enrollment token is required: this device key is not enrolled as that node of a site of that name');
}

async function checkNodeKeyFree(tx: StoreRepos, deps: EnrollDeps, site: SiteRecord, name: string, wgKey: string): Promise<void> {
  const holders = [...(await tx.sites.holdersOfWireguardKey(wgKey, '')), ...(await tx.nodes.holdersOfWireguardKey(wgKey, { siteId: site.id, name }))];
  if (holders.length > 0 || wgKey === deps.settings.wireguard.hubPublicKey) {
    throw new HubError('ENROLL_WG_KEY_IN_USE', `node ${name} of site ${site.name} presents a WireGuard public key that another node, site or the hub uses`, {
      hint: 'every device makes its own WireGuard key',
    });
  }
}

/** After a failed transaction: the node's peer as the store has it. */
async function restoreNodePeer(deps: EnrollDeps, siteId: string, name: string): Promise<void> {
  const id = nodeUsername(siteId, name);
  try {
    const n = await deps.store.nodes.get(siteId, name);
    if (n?.state === 'enrolled') await deps.peers.addPeer(id, n.wireguardKey, deps.overlay.hostRoutes(n.overlayIndex));
    else await deps.peers.removePeer(id);
  } catch {
    // The enrollment already failed with its own error; the next start reconciles every peer.
  }
}

export async function enrollNode(req: EnrollRequest, deps: EnrollDeps): Promise<EnrollResponse> {
  const name = req.nodeName ?? '';
  if (!NODE_NAME_RE.test(name)) {
    throw new HubError('ENROLL_NODE_NAME_INVALID', `node name ${JSON.stringify(name.slice(0, 80))} is not one DNS label`, {
      hint: 'lowercase letters, digits and dashes, at most 63, starting and ending with a letter or digit (the k3s node name)',
    });
  }
  if (req.challenge === undefined) {
    // A node token has many uses: only a challenge makes a recorded request unreplayable.
    throw new HubError('ENROLL_CHALLENGE_REQUIRED', 'a node enrolls with a challenge from POST /v1/enroll/challenge signed into the proof');
  }
  const { store, overlay } = deps;
  const t = deps.now();
  const r = { ...req, nodeName: name };
  const { site, node, kind, tokenHash } = await authorizeNode(deps, r, t);
  await checkNodeKeyFree(store, deps, site, name, req.wireguardPublicKey);
  const challengeHash = hashSecret(req.challenge);
  if (!(await store.tokens.hasChallenge(challengeHash, t))) {
    throw new HubError('ENROLL_CHALLENGE_INVALID', 'the challenge is unknown, used or expired: fetch a new one (POST /v1/enroll/challenge)');
  }
  const index = await overlayIndex(deps, { overlayIndex: node?.overlayIndex ?? null });
  const addresses = overlay.hostRoutes(index);
  const peerId = nodeUsername(site.id, name);
  try {
    await deps.peers.addPeer(peerId, req.wireguardPublicKey, addresses);
  } catch (e) {
    await restoreNodePeer(deps, site.id, name);
    throw new HubError('ENROLL_PEER_UNAVAILABLE', `the tunnel peer could not be configured (${errorMessage(e)}); nothing was changed: retry the enrollment`);
  }

  const { password, hash } = (deps.issueCredential ?? randomCredential)(peerId);
  let enrolled: SiteRecord;
  try {
    enrolled = await store.tx(
      async (tx) => {
        if (tokenHash !== null && !(await tx.tokens.useEnrollToken(tokenHash, t))) {
          throw new HubError('ENROLL_TOKEN_USED', 'the last use of the node token went to a concurrent enrollment');
        }
        if (!(await tx.tokens.useChallenge(challengeHash, t)))
          throw new HubError('ENROLL_CHALLENGE_INVALID', 'the challenge was used by a concurrent enrollment');
        await checkNodeKeyFree(tx, deps, site, name, req.wireguardPublicKey);
        if (node === undefined && (await tx.sites.usedOverlayIndexes()).has(index)) {
          throw new HubError('OVERLAY_EXHAUSTED', 'the overlay address was taken by a concurrent enrollment: retry');
        }
        await tx.nodes.put({
          siteId: site.id,
          name,
          state: 'enrolled',
          identityKey: req.identityPublicKey,
          wireguardKey: req.wireguardPublicKey,
          overlayIndex: index,
          agentVersion: req.agentVersion,
          enrolledAt: kind === 'reenroll' && node ? node.enrolledAt : t,
        });
        // As for a one-device site: the same device renewing keeps its working password until it uses the new one.
        if (kind === 'reenroll' && (await tx.nodes.credentialHash(site.id, name)) !== undefined) await tx.nodes.setPendingCredential(site.id, name, hash);
        else await tx.nodes.setCredential(site.id, name, hash);
        if (site.state === 'pending') await tx.sites.update(site.id, { state: 'enrolled', enrolledAt: site.enrolledAt ?? t });
        await tx.audit.record({
          at: t,
          actor: `site/${site.id}/node/${name}`,
          action: kind === 'reenroll' ? 'node.reenroll' : node ? 'node.replace' : 'node.enroll',
          target: `site/${site.id}`,
          details: { node: name, agentVersion: req.agentVersion, wireguardPublicKey: req.wireguardPublicKey, withToken: tokenHash !== null },
        });
        return (await tx.sites.get(site.id))!;
      },
      { durable: true },
    );
  } catch (e) {
    await restoreNodePeer(deps, site.id, name);
    throw e;
  }
  await deps.onEnrolled(enrolled);
  return { ...(await enrollAnswer(deps, site.id, peerId, password, addresses)), node: name };
}
