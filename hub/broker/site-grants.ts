// Who may publish and read what, as MQTT topic filters: the one source of grants every file-fed
// broker renders (Mosquitto's ACL file, NATS's authorization users), derived from protocol/topics.ts
// siteMayPublish/siteMaySubscribe, which the embedded broker checks per packet. Pure data.
import { siteMayPublish, siteMaySubscribe, topics, type SiteTopicKind } from '../../protocol/index.ts';

export interface Grants {
  /** Topics the user may publish on (MQTT names, no wildcards). */
  publish: string[];
  /** Topic filters the user may subscribe to (MQTT syntax: + and #). */
  subscribe: string[];
}

const SITE_KINDS: SiteTopicKind[] = ['bundle', 'status', 'heartbeat', 'ack', 'events', 'update'];

/** A site publishes its status, heartbeat, ack and events, and reads its own bundle, its update order and the broadcasts. */
export function siteGrants(siteId: string): Grants {
  return {
    publish: SITE_KINDS.map((k) => topics[k](siteId)).filter((t) => siteMayPublish(siteId, t)),
    subscribe: [topics.bundle(siteId), topics.update(siteId), topics.broadcastAll].filter((f) => siteMaySubscribe(siteId, f)),
  };
}

/**
 * A standalone router (weft-router) builds site health from every site's retained status and its
 * heartbeats: it reads those and publishes nothing.
 */
export function routerGrants(): Grants {
  return { publish: [], subscribe: [topics.allSites('status'), topics.allSites('heartbeat')] };
}
