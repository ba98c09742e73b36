// nats-server's configuration rendered from the hub's grants and credentials: plain data in, text out.
// One node file per supervised node (server name, client/monitor/MQTT listeners, JetStream store,
// cluster routes) that includes one authorization file, the same on every node.
//
// MQTT topic `weft/v1/site/a/bundle` is the subject `weft.v1.site.a.bundle` inside NATS (`+` is `*`,
// `#` is `>`), so the grants of site-grants.ts become subject permissions. An MQTT client also needs to
// subscribe to `$MQTT.sub.>`: the server delivers QoS 1 messages to it on such subjects. It must never
// publish on `$MQTT.>`: `$MQTT/msgs/...` would let it inject messages on any topic.
import { HUB_USERNAME } from './types.ts';
import { routerGrants, siteGrants, type Grants } from './site-grants.ts';

export const ROUTER_USERNAME = '_weft_router';
export const ROUTE_USERNAME = '_weft_route';

/** Where QoS 1 messages reach an MQTT session inside nats-server 2.9. */
export const MQTT_DELIVERY_SUBJECTS = '$MQTT.sub.>';

export interface NatsPermissions {
  publish: { allow?: string[]; deny?: string[] };
  subscribe: { allow?: string[]; deny?: string[] };
}

export interface NatsUser {
  user: string;
  password: string;
  permissions: NatsPermissions;
}

export function mqttFilterToSubject(filter: string): string {
  return filter
    .split('/')
    .map((level) => (level === '+' ? '*' : level === '#' ? '>' : level))
    .join('.');
}

/**
 * The subjects an MQTT filter subscribes to: `a/#` matches `a` itself too, so nats-server subscribes to
 * both `a` and `a.>`, and refuses the filter unless both are allowed.
 */
export function filterSubjects(filter: string): string[] {
  const s = mqttFilterToSubject(filter);
  return s.endsWith('.>') ? [s.slice(0, -2), s] : [s];
}

/** Grants as NATS permissions: nothing else allowed (no publish at all when none is granted). */
export function grantsToPermissions(g: Grants): NatsPermissions {
  return {
    publish: g.publish.length ? { allow: g.publish.map(mqttFilterToSubject) } : { deny: ['>'] },
    subscribe: { allow: [...g.subscribe.flatMap(filterSubjects), MQTT_DELIVERY_SUBJECTS] },
  };
}

/** A site's user, or (`node` given) one node's of a multi-node site: the same grants Mosquitto renders. */
export const siteUser = (username: string, siteId: string, password: string, node?: string): NatsUser => ({
  user: username,
  password,
  permissions: grantsToPermissions(siteGrants(siteId, node)),
});

/**
 * A revoked site stays as a user with a password nobody knows, and keeps its grants: on reload
 * nats-server 2.9.10 drops the retained messages (the site's status) whose publisher is gone or may no
 * longer publish them, and panics doing so for those it learned from another node. Changing the
 * password is what closes the site's sessions and refuses it.
 */
export const tombstoneUser = (username: string, siteId: string, randomPassword: string, node?: string): NatsUser =>
  siteUser(username, siteId, randomPassword, node);

export const routerUser = (password: string): NatsUser => ({ user: ROUTER_USERNAME, password, permissions: grantsToPermissions(routerGrants()) });

/**
 * Full access, spelled out: nats-server 2.9.10 panics on reload (mqttCheckPubRetainedPerms) when the
 * publisher of a retained message has no permissions block at all, and the hub publishes every bundle.
 */
export const hubUser = (password: string): NatsUser => ({
  user: HUB_USERNAME,
  password,
  permissions: { publish: { allow: ['>'] }, subscribe: { allow: ['>'] } },
});

/** The config syntax has includes and variables: a name outside this set could change its meaning. */
function safe(s: string, what: string): string {
  if (!/^[A-Za-z0-9._@-]{1,128}$/.test(s))
    throw new Error(`${what} ${JSON.stringify(s).slice(0, 80)} cannot be written to a NATS file (allowed: A-Z a-z 0-9 . _ @ -)`);
  return s;
}

const q = (s: string) => JSON.stringify(s);
const list = (xs: string[]) => `[${xs.map(q).join(', ')}]`;

function renderPerms(p: NatsPermissions): string {
  const side = (s: { allow?: string[]; deny?: string[] }) =>
    [s.allow ? `allow: ${list(s.allow)}` : '', s.deny ? `deny: ${list(s.deny)}` : ''].filter(Boolean).join(', ');
  return `permissions: { publish: { ${side(p.publish)} }, subscribe: { ${side(p.subscribe)} } }`;
}

export function renderAuthorization(users: NatsUser[]): string {
  const lines = users.map((u) => {
    const base = `{ user: ${q(safe(u.user, 'username'))}, password: ${q(safe(u.password, 'password'))}`;
    return `    ${base}, ${renderPerms(u.permissions)} }`;
  });
  return ['# Written by the Weft hub from its store; edits are overwritten.', 'authorization {', '  users: [', ...lines, '  ]', '}', ''].join('\n');
}

export interface NatsNodeConfig {
  name: string;
  /** Where MQTT clients (sites, hub, routers) connect: one address. */
  mqtt: { host: string; port: number };
  /** NATS protocol clients (tools) and the HTTP monitor (/healthz, /varz), on loopback. */
  clientPort: number;
  httpPort: number;
  cluster: {
    name: string;
    host: string;
    port: number;
    /** host:port of the other nodes' cluster listeners. */
    routes: string[];
    routePassword: string;
  };
  storeDir: string;
  /** File with the authorization block (renderAuthorization). */
  authorizationFile: string;
  maxPayloadBytes: number;
  tls?: { certFile: string; keyFile: string };
}

/** Three copies of every retained message and session when the cluster has three nodes or more. */
export function replicas(c: NatsNodeConfig): number {
  return Math.min(3, c.cluster.routes.length + 1);
}

export function renderNodeConfig(c: NatsNodeConfig): string {
  const routeUrl = (hp: string) => `nats-route://${ROUTE_USERNAME}:${c.cluster.routePassword}@${hp}`;
  return [
    '# Written by the Weft hub; edits are overwritten.',
    `server_name: ${q(safe(c.name, 'node name'))}`,
    `listen: "127.0.0.1:${c.clientPort}"`,
    `http: "127.0.0.1:${c.httpPort}"`,
    `max_payload: ${c.maxPayloadBytes}`,
    `jetstream { store_dir: ${q(c.storeDir)} }`,
    'mqtt {',
    `  listen: ${q(`${c.mqtt.host}:${c.mqtt.port}`)}`,
    // Fixed, not "as many nodes as are up when the first client connects" (the server's default): a
    // stream created while a node was still joining would stay on two replicas, and lose its quorum
    // with one more node.
    `  stream_replicas: ${replicas(c)}`,
    `  consumer_replicas: ${replicas(c)}`,
    ...(c.tls ? [`  tls { cert_file: ${q(c.tls.certFile)}, key_file: ${q(c.tls.keyFile)} }`] : []),
    '}',
    'cluster {',
    `  name: ${q(safe(c.cluster.name, 'cluster name'))}`,
    `  listen: ${q(`${c.cluster.host}:${c.cluster.port}`)}`,
    `  authorization { user: ${q(ROUTE_USERNAME)}, password: ${q(safe(c.cluster.routePassword, 'route password'))} }`,
    `  routes: ${list(c.cluster.routes.map(routeUrl))}`,
    '}',
    `include ${q(c.authorizationFile)}`,
    '',
  ].join('\n');
}
