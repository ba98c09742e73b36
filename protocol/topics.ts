// MQTT topics, all under weft/v1/. One definition shared by hub and agent.

export const ROOT = 'weft/v1';

export const SITE_ID_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export type SiteTopicKind = 'bundle' | 'status' | 'heartbeat' | 'ack' | 'events' | 'update' | 'mesh' | 'peers';

export const topics = {
  bundle: (siteId: string) => `${ROOT}/site/${siteId}/bundle`,
  status: (siteId: string) => `${ROOT}/site/${siteId}/status`,
  heartbeat: (siteId: string) => `${ROOT}/site/${siteId}/heartbeat`,
  ack: (siteId: string) => `${ROOT}/site/${siteId}/ack`,
  events: (siteId: string) => `${ROOT}/site/${siteId}/events`,
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
}

const KINDS = new Set<string>(['bundle', 'status', 'heartbeat', 'ack', 'events', 'update', 'mesh', 'peers']);

/** Parses `weft/v1/site/<id>/<kind>`; null for anything else. */
export function parseSiteTopic(topic: string): ParsedTopic | null {
  const parts = topic.split('/');
  if (parts.length !== 5 || `${parts[0]}/${parts[1]}` !== ROOT || parts[2] !== 'site') return null;
  const [, , , siteId, kind] = parts;
  if (!SITE_ID_RE.test(siteId) || !KINDS.has(kind)) return null;
  return { siteId, kind: kind as SiteTopicKind };
}

/**
 * The broker ACL, one pure function used by the embedded broker and to generate Mosquitto's ACL file:
 * a site publishes only under its own site/<id>/ (never its bundle, update order or peers: those come
 * from the hub), and subscribes only to its own bundle, update order and peers, and to broadcasts.
 */
export function siteMayPublish(siteId: string, topic: string): boolean {
  const t = parseSiteTopic(topic);
  return t !== null && t.siteId === siteId && t.kind !== 'bundle' && t.kind !== 'update' && t.kind !== 'peers';
}

export function siteMaySubscribe(siteId: string, filter: string): boolean {
  if (filter === topics.bundle(siteId) || filter === topics.update(siteId) || filter === topics.peers(siteId)) return true;
  return filter === topics.broadcastAll || (filter.startsWith(`${ROOT}/broadcast/`) && !filter.includes('+') && !filter.slice(0, -1).includes('#'));
}
