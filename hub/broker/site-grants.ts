// Who may publish and read what, as MQTT topic filters: the one source of grants every file-fed
// broker renders (Mosquitto's ACL file, NATS's authorization users), derived from protocol/topics.ts
// siteMayPublish/siteMaySubscribe, which the embedded broker checks per packet. Pure data.
import { siblingTopics, siteMayPublish, siteMaySubscribe, topics, type SiteTopicKind } from '../../protocol/index.ts';

export interface Grants {
  /** Topics the user may publish on (MQTT names, no wildcards). */
  publish: string[];
  /** Topic filters the user may subscribe to (MQTT syntax: + and #). */
  subscribe: string[];
}

const SITE_KINDS: SiteTopicKind[] = ['bundle', 'status', 'heartbeat', 'ack', 'events', 'update', 'mesh', 'peers'];

/** The topic of a kind for a site, or for one node of it where the kind has node topics. */
function topicOf(kind: SiteTopicKind, siteId: string, node?: string): string {
  switch (kind) {
    case 'status':
    case 'heartbeat':
    case 'ack':
    case 'events':
      return topics[kind](siteId, node);
    default:
      return topics[kind](siteId);
  }
}

/**
 * A site publishes its status, heartbeat, ack, events (update reports among them) and mesh report, and reads
 * its own bundle, update order, peers and the broadcasts. A node (`node` given) publishes the same kinds
 * under its own site/<id>/node/<node>/ (the mesh report stays the site's: not a node's to publish), reads
 * what its site reads, and hears its site's nodes' status and heartbeats.
 */
export function siteGrants(siteId: string, node?: string): Grants {
  const sib = siblingTopics(siteId);
  return {
    publish: SITE_KINDS.map((k) => topicOf(k, siteId, node)).filter((t) => siteMayPublish(siteId, t, node)),
    subscribe: [topics.bundle(siteId), topics.update(siteId), topics.peers(siteId), topics.broadcastAll, sib.status, sib.heartbeat].filter((f) =>
      siteMaySubscribe(siteId, f, node),
    ),
  };
}

/**
 * A standalone router (weft-router) builds site health from every site's retained status and its
 * heartbeats, and a multi-node site's from its nodes' (router/health/monitor.ts): it reads those and
 * publishes nothing.
 */
export function routerGrants(): Grants {
  return {
    publish: [],
    subscribe: [topics.allSites('status'), topics.allSites('heartbeat'), topics.allNodes('status'), topics.allNodes('heartbeat')],
  };
}
