// Site lifecycle: create, drain/undrain, enrollment tokens, revocation, and the broker credential check.
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { nodeUsername, parseUsername, SITE_ID_RE, type SitePublisher } from '../../protocol/index.ts';
import { HubError } from '../errors.ts';
import { hashSecret, newSecret } from '../auth/secrets.ts';
import { verifyPassword } from '../broker/password.ts';
import type { HubStore, SiteNodeRecord, SiteRecord, SiteSpec } from '../store/types.ts';
import type { SiteDirectory } from './site-directory.ts';
import type { SiteRecord as HealthSiteRecord } from '../../router/index.ts';
import type { SiteCredential } from '../broker/types.ts';

/** What revocation must undo outside the store; main.ts wires the broker, WireGuard and the bundle topic. */
export interface RevocationEffects {
  /** Close the site's broker session now. */
  kick(siteId: string): Promise<void> | void;
  removePeer(siteId: string): Promise<void>;
  /** Clear the retained bundle so nothing is served to that id again. */
  clearBundle(siteId: string): Promise<void>;
}

export const DEFAULT_TOKEN_TTL_MS = 24 * 3600_000;

function validCidr(c: string): boolean {
  const [addr, len, ...rest] = c.split('/');
  const fam = isIP(addr);
  const n = Number(len);
  return rest.length === 0 && fam !== 0 && Number.isInteger(n) && n >= 0 && n <= (fam === 4 ? 32 : 128);
}

/**
 * A service URL the router redirects end users to (302) and the dashboard links: http or https with
 * a host only. Anything else (javascript:, data:, file:) would run or open in the user's browser.
 */
function validServiceUrl(u: string): boolean {
  try {
    const url = new URL(u);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '' && url.username === '' && url.password === '';
  } catch {
    return false;
  }
}

export function validateSiteSpec(s: SiteSpec): void {
  const bad: { path: string; message: string }[] = [];
  if (!SITE_ID_RE.test(s.name))
    bad.push({ path: 'name', message: 'lowercase letters, digits and dashes, at most 63, starting and ending with a letter or digit' });
  s.clientCidrs.forEach((c, i) => {
    if (!validCidr(c)) bad.push({ path: `clientCidrs[${i}]`, message: `${c} is not a CIDR` });
  });
  s.services.forEach((svc, i) => {
    svc.addresses.forEach((a, j) => {
      if (!isIP(a)) bad.push({ path: `services[${i}].addresses[${j}]`, message: `${a} is not an IP address` });
    });
    for (const [node, addrs] of Object.entries(svc.nodeAddresses ?? {})) {
      if (!SITE_ID_RE.test(node)) bad.push({ path: `services[${i}].nodeAddresses`, message: `${node} is not a node name (one DNS label)` });
      addrs.forEach((a, j) => {
        if (!isIP(a)) bad.push({ path: `services[${i}].nodeAddresses.${node}[${j}]`, message: `${a} is not an IP address` });
      });
    }
    if (svc.url !== undefined && !validServiceUrl(svc.url)) {
      bad.push({ path: `services[${i}].url`, message: 'must be an http:// or https:// URL with a host and no credentials' });
    }
  });
  if (s.lat < -90 || s.lat > 90) bad.push({ path: 'lat', message: 'must be within -90..90' });
  if (s.lon < -180 || s.lon > 180) bad.push({ path: 'lon', message: 'must be within -180..180' });
  if (bad.length) throw new HubError('SITE_INVALID', `invalid site: ${bad.map((b) => `${b.path}: ${b.message}`).join('; ')}`, { errors: bad });
}

/** A store record in the shape the router's SitesView (router/health) joins with live health. */
export function routableRecord(s: SiteRecord): HealthSiteRecord {
  return {
    id: s.id,
    name: s.name,
    labels: s.labels,
    lat: s.lat,
    lon: s.lon,
    clientCidrs: s.clientCidrs,
    capacity: s.capacity,
    services: s.services,
    draining: s.drained,
  };
}

export class SitesService extends EventEmitter implements SiteDirectory {
  constructor(
    private readonly store: HubStore,
    private readonly effects: RevocationEffects,
    private readonly now: () => number,
  ) {
    super();
  }

  async list(): Promise<SiteRecord[]> {
    return (await this.store.sites.list()).filter((s) => s.state !== 'revoked');
  }

  async get(id: string): Promise<SiteRecord | undefined> {
    const s = await this.store.sites.get(id);
    return s && s.state !== 'revoked' ? s : undefined;
  }

  all(): Promise<SiteRecord[]> {
    return this.store.sites.list();
  }

  /** Non-revoked sites in the shape the router's SitesView (router/health) joins with live health. */
  async routable(): Promise<HealthSiteRecord[]> {
    return (await this.list()).map(routableRecord);
  }

  /** Every enrolled site's broker credential, for brokers fed from files (Mosquitto). */
  async credentials(): Promise<SiteCredential[]> {
    const out: SiteCredential[] = [];
    for (const s of await this.store.sites.list({ state: 'enrolled' })) {
      // A file holds one password per user: the pending one, so a renewed device can connect (the old password stops at once there).
      const passwordHash = (await this.store.sites.pendingCredentialHash(s.id)) ?? (await this.store.sites.credentialHash(s.id));
      if (passwordHash) out.push({ siteId: s.id, username: s.id, passwordHash });
    }
    for (const n of await this.store.nodes.all({ state: 'enrolled' })) {
      const passwordHash = (await this.store.nodes.pendingCredentialHash(n.siteId, n.name)) ?? (await this.store.nodes.credentialHash(n.siteId, n.name));
      if (passwordHash) out.push({ siteId: n.siteId, node: n.name, username: nodeUsername(n.siteId, n.name), passwordHash });
    }
    return out;
  }

  async require(id: string): Promise<SiteRecord> {
    const s = await this.store.sites.get(id);
    if (!s) throw new HubError('SITE_NOT_FOUND', `no site ${id}`);
    return s;
  }

  async create(spec: SiteSpec, actor: string): Promise<SiteRecord> {
    validateSiteSpec(spec);
    if (await this.store.sites.get(spec.name)) throw new HubError('SITE_EXISTS', `site ${spec.name} exists`);
    const now = this.now();
    const site = await this.store.tx(async (tx) => {
      const s = await tx.sites.create(spec.name, spec, now);
      await tx.audit.record({ at: now, actor, action: 'site.create', target: `site/${s.id}`, details: spec });
      return s;
    });
    this.emit('changed', site);
    return site;
  }

  /**
   * An enrollment token bound to this site, returned once; only its hash is kept. Without `nodes`: a
   * one-time token for the site's one device. With `nodes: N`: a node token, good for N node
   * enrollments of a multi-node site (each node enrolls with its own name and keys).
   */
  async issueToken(id: string, actor: string, ttlMs = DEFAULT_TOKEN_TTL_MS, nodes?: number): Promise<{ token: string; expiresAt: number; nodes?: number }> {
    const site = await this.require(id);
    if (site.state === 'revoked') throw new HubError('SITE_REVOKED', `site ${id} is revoked`);
    if (nodes !== undefined && (!Number.isSafeInteger(nodes) || nodes < 1 || nodes > 1000)) {
      throw new HubError('BAD_REQUEST', `nodes must be an integer 1..1000, not ${nodes}`);
    }
    if (nodes !== undefined && site.identityKey !== null && site.state === 'enrolled') {
      throw new HubError('ENROLL_SITE_MODE', `site ${id} is enrolled as a one-device site: revoke it and create it again to give it nodes`);
    }
    const now = this.now();
    const token = newSecret('wenr');
    const expiresAt = now + ttlMs;
    await this.store.tx(async (tx) => {
      await tx.tokens.addEnrollToken({
        hash: hashSecret(token),
        siteId: id,
        createdAt: now,
        expiresAt,
        usedAt: null,
        createdBy: actor,
        forNodes: nodes !== undefined,
        maxUses: nodes ?? 1,
        uses: 0,
      });
      await tx.audit.record({ at: now, actor, action: 'site.token', target: `site/${id}`, details: { expiresAt, ...(nodes !== undefined ? { nodes } : {}) } });
    });
    return { token, expiresAt, ...(nodes !== undefined ? { nodes } : {}) };
  }

  /** A site's nodes (revoked ones included): empty for a one-device site. */
  nodes(id: string): Promise<SiteNodeRecord[]> {
    return this.store.nodes.list(id);
  }

  /** Revokes one node of a site: its credential, session and tunnel peer go; the site and its other nodes stay. */
  async revokeNode(id: string, name: string, actor: string): Promise<SiteNodeRecord> {
    await this.require(id);
    const node = await this.store.nodes.get(id, name);
    if (!node) throw new HubError('NODE_NOT_FOUND', `site ${id} has no node ${name}`);
    const now = this.now();
    if (node.state !== 'revoked') {
      await this.store.tx(async (tx) => {
        await tx.nodes.revoke(id, name, now);
        await tx.audit.record({ at: now, actor, action: 'node.revoke', target: `site/${id}`, details: { node: name } });
      });
      this.emit('node-removed', id, name);
    }
    const key = nodeUsername(id, name);
    await this.effects.kick(key);
    await this.effects.removePeer(key);
    return (await this.store.nodes.get(id, name))!;
  }

  async setDrained(id: string, drained: boolean, actor: string): Promise<SiteRecord> {
    const site = await this.require(id);
    if (site.state === 'revoked') throw new HubError('SITE_REVOKED', `site ${id} is revoked`);
    const now = this.now();
    await this.store.tx(async (tx) => {
      await tx.sites.update(id, { drained });
      await tx.audit.record({ at: now, actor, action: drained ? 'site.drain' : 'site.undrain', target: `site/${id}`, details: {} });
    });
    const updated = await this.require(id);
    this.emit('changed', updated);
    return updated;
  }

  /** Refuses the site from now on (store first, so a reconnect racing the kick is already refused), then undoes its session, peer and route. */
  async revoke(id: string, actor: string): Promise<SiteRecord> {
    const site = await this.require(id);
    if (site.state !== 'revoked') {
      const now = this.now();
      await this.store.tx(async (tx) => {
        await tx.sites.update(id, { state: 'revoked', revokedAt: now, overlayIndex: null });
        await tx.sites.deleteCredential(id);
        await tx.tokens.invalidateSiteTokens(id, now);
        for (const n of await tx.nodes.list(id)) await tx.nodes.revoke(id, n.name, now);
        await tx.audit.record({ at: now, actor, action: 'site.revoke', target: `site/${id}`, details: {} });
      });
      this.emit('removed', id);
    }
    // Idempotent: a retried revoke finishes the side effects a failed one left undone.
    await this.effects.kick(id);
    await this.effects.removePeer(id);
    for (const n of await this.store.nodes.list(id)) await this.effects.removePeer(nodeUsername(id, n.name));
    await this.effects.clearBundle(id);
    return await this.require(id);
  }

  /**
   * The broker's credential check: username is the site id, or `<siteId>.<node>` for a node of a
   * multi-node site; revoked or unknown sites and nodes are refused. Returns who connected.
   */
  async verifyPublisher(username: string, password: string): Promise<SitePublisher | null> {
    const who = parseUsername(username);
    if (!who) return null;
    if (who.node === undefined) return (await this.verifyCredential(username, password)) ? who : null;
    if ((await this.store.sites.state(who.siteId)) !== 'enrolled') return null;
    const hash = await this.store.nodes.credentialHash(who.siteId, who.node);
    if (hash !== undefined && verifyPassword(password, hash)) return who;
    const pending = await this.store.nodes.pendingCredentialHash(who.siteId, who.node);
    if (pending === undefined || !verifyPassword(password, pending)) return null;
    await this.store.nodes.promoteCredential(who.siteId, who.node);
    return who;
  }

  /** A site, or one node of it, may not hold a session (revoked, or not enrolled). */
  async isRevoked(siteId: string, node?: string): Promise<boolean> {
    if ((await this.store.sites.state(siteId)) !== 'enrolled') return true;
    return node !== undefined && (await this.store.nodes.get(siteId, node))?.state !== 'enrolled';
  }

  /** The broker's credential check of a one-device site: username is the site id. */
  async verifyCredential(username: string, password: string): Promise<boolean> {
    const site = await this.store.sites.get(username);
    if (!site || site.state !== 'enrolled') return false;
    const hash = await this.store.sites.credentialHash(username);
    if (hash !== undefined && verifyPassword(password, hash)) return true;
    // A re-enrolled device's new password: its first use proves the device has it, and retires the old one.
    const pending = await this.store.sites.pendingCredentialHash(username);
    if (pending === undefined || !verifyPassword(password, pending)) return false;
    await this.store.sites.promoteCredential(username, this.now());
    return true;
  }
}
