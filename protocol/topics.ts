// MQTT topics, all under weft/v1/. One definition shared by hub and agent.

export const ROOT = 'weft/v1';

export const SITE_ID_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * A node name inside a site (a k3s node name that is one DNS label): the broker username and client id
 * of a node are `<siteId>.<node>`, and its topics sit under `site/<id>/node/<node>/`.
 */
export const NODE_NAME_RE = SITE_ID_RE;

export type SiteTopicKind = 'bundle' | 'status' | 'heartbeat' | 'ack' | 'events' | 'update' | 'mesh' | 'peers';

/**
 * Where a site's own messages go: a one-device site publishes under `site/<id>/<kind>`, a node of a
 * multi-node site under `site/<id>/node/<node>/<kind>` (its own status, last will, heartbeats, acks and
 * events). The bundle is always the site's: made once, read by every node.
 */
const own = (siteId: string, kind: string, node?: string) =>
  node === undefined ? `${ROOT}/site/${siteId}/${kind}` : `${ROOT}/site/${siteId}/node/${node}/${kind}`;

export const topics = {
  bundle: (siteId: string) => `${ROOT}/site/${siteId}/bundle`,
  status: (siteId: string, node?: string) => own(siteId, 'status', node),
  heartbeat: (siteId: string, node?: string) => own(siteId, 'heartbeat', node),
  ack: (siteId: string, node?: string) => own(siteId, 'ack', node),
  events: (siteId: string, node?: string) => own(siteId, 'events', node),
  /** hub -> site, retained: the agent update this site is to install (UpdateOrderMessage). */
  update: (siteId: string) => `${ROOT}/site/${siteId}/update`,
  /** Site -> hub, retained: what the site offers its linked sites (protocol/mesh.ts MeshReport). */
  mesh: (siteId: string) => `${ROOT}/site/${siteId}/mesh`,
  /** Hub -> site, retained: its signed peers and their inventories (policy/mesh-bundle.ts). */
  peers: (siteId: string) => `${ROOT}/site/${siteId}/peers`,
  broadcast: (name: string) => `${ROOT}/broadcast/${name}`,
  broadcastAll: `${ROOT}/broadcast/#`,
  /** The hub subscribes to everything sites publish. */
  allSites: (kind: SiteTopicKind) => `${ROOT}/site/+/${kind}`,
  /** ... and everything the nodes of multi-node sites publish. */
  allNodes: (kind: SiteTopicKind) => `${ROOT}/site/+/node/+/${kind}`,
  signingKeys: `${ROOT}/broadcast/keys`,
} as const;

/** Delivery settings per topic, per DESIGN.md. */
export const delivery: Record<SiteTopicKind, { qos: 0 | 1; retain: boolean }> = {
  bundle: { qos: 1, retain: true },
  status: { qos: 1, retain: true },
  heartbeat: { qos: 0, retain: false },
  ack: { qos: 1, retain: false },
  events: { qos: 1, retain: false },
  update: { qos: 1, retain: true },
  mesh: { qos: 1, retain: true },
  peers: { qos: 1, retain: true },
};

export interface ParsedTopic {
  siteId: string;
  kind: SiteTopicKind;
  /** Present on a node's topic (`site/<id>/node/<node>/<kind>`). */
  node?: string;
}

/** What only the hub writes to a site: its bundle, update order and peers (never under a node). */
const HUB_KINDS = new Set<SiteTopicKind>(['bundle', 'update', 'peers']);

const KINDS = new Set<string>(['bundle', 'status', 'heartbeat', 'ack', 'events', 'update', 'mesh', 'peers']);

/** Parses `weft/v1/site/<id>/<kind>` and `weft/v1/site/<id>/node/<node>/<kind>` (never a bundle); null for anything else. */
export function parseSiteTopic(topic: string): ParsedTopic | null {
  const parts = topic.split('/');
  if ((parts.length !== 5 && parts.length !== 7) || `${parts[0]}/${parts[1]}` !== ROOT || parts[2] !== 'site') return null;
  const siteId = parts[3];
  if (!SITE_ID_RE.test(siteId)) return null;
  if (parts.length === 5) return KINDS.has(parts[4]) ? { siteId, kind: parts[4] as SiteTopicKind } : null;
  const [, , , , n, node, kind] = parts;
  if (n !== 'node' || !NODE_NAME_RE.test(node) || !KINDS.has(kind) || HUB_KINDS.has(kind as SiteTopicKind)) return null;
  return { siteId, kind: kind as SiteTopicKind, node };
}

/** The filters a node subscribes to for its site's nodes. */
export function siblingTopics(siteId: string): { status: string; heartbeat: string } {
  return { status: `${ROOT}/site/${siteId}/node/+/status`, heartbeat: `${ROOT}/site/${siteId}/node/+/heartbeat` };
}

/** What a broker delivers to a site client (defence in depth beside the subscribe ACL). */
export function siteMayReceive(siteId: string, topic: string, node?: string): boolean {
  if (topic === topics.bundle(siteId) || topic === topics.update(siteId) || topic === topics.peers(siteId)) return true;
  if (topic.startsWith(`${ROOT}/broadcast/`)) return true;
  if (node === undefined) return false;
  const t = parseSiteTopic(topic);
  return t !== null && t.siteId === siteId && t.node !== undefined && (t.kind === 'status' || t.kind === 'heartbeat');
}

/** Who a broker client is: a one-device site, or one node of a multi-node site. */
export interface SitePublisher {
  siteId: string;
  node?: string;
}

/** The broker username (and client id) of a node: `<siteId>.<node>`. */
export function nodeUsername(siteId: string, node: string): string {
  return `${siteId}.${node}`;
}

/** Splits a broker username into site and node; a bare site id is a one-device site. */
export function parseUsername(username: string): SitePublisher | null {
  const dot = username.indexOf('.');
  if (dot < 0) return SITE_ID_RE.test(username) ? { siteId: username } : null;
  const siteId = username.slice(0, dot);
  const node = username.slice(dot + 1);
  return SITE_ID_RE.test(siteId) && NODE_NAME_RE.test(node) ? { siteId, node } : null;
}

/**
 * The broker ACL, one pure function used by the embedded broker and to generate Mosquitto's ACL file:
 * a site publishes only under its own site/<id>/ (never its bundle, update order or peers: those come
 * from the hub), and subscribes only to its own bundle, update order and peers, and to broadcasts.
 * A node publishes only under its own site/<id>/node/<node>/ (so one node cannot speak, or fire a last
 * will, for another), and reads its site's bundle, update order and peers like a one-device site.
 */
export function siteMayPublish(siteId: string, topic: string, node?: string): boolean {
  const t = parseSiteTopic(topic);
  return t !== null && t.siteId === siteId && !HUB_KINDS.has(t.kind) && t.node === node;
}

export function siteMaySubscribe(siteId: string, filter: string, node?: string): boolean {
  if (filter === topics.bundle(siteId) || filter === topics.update(siteId) || filter === topics.peers(siteId)) return true;
  // A node hears its site's other nodes (status and heartbeats): `weft-agent status` shows them as last heard.
  if (node !== undefined && (filter === siblingTopics(siteId).status || filter === siblingTopics(siteId).heartbeat)) return true;
  return filter === topics.broadcastAll || (filter.startsWith(`${ROOT}/broadcast/`) && !filter.includes('+') && !filter.slice(0, -1).includes('#'));
}
