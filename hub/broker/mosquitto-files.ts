// Mosquitto's password, ACL and config files rendered from the hub store: plain data in, text out.
// The ACL rules come from site-grants.ts (itself derived from protocol/topics.ts siteMayPublish/
// siteMaySubscribe), so the embedded broker, Mosquitto and NATS enforce one definition.
import { siteGrants } from './site-grants.ts';
import { HUB_USERNAME, type SiteCredential } from './types.ts';

/** Mosquitto's file syntax is line based: a name with whitespace or control characters could inject rules. */
function safeName(s: string, what: string): string {
  if (!/^[A-Za-z0-9._@-]{1,128}$/.test(s))
    throw new Error(`${what} ${JSON.stringify(s).slice(0, 80)} cannot be written to a Mosquitto file (allowed: A-Z a-z 0-9 . _ @ -)`);
  return s;
}

/** Site users only; the hub user lives in its own file on its own loopback listener. */
export function renderPasswordFile(creds: SiteCredential[]): string {
  return creds.map((c) => `${safeName(c.username, 'username')}:${c.passwordHash}\n`).join('');
}

export function renderHubPasswordFile(hubPasswordHash: string): string {
  return `${HUB_USERNAME}:${hubPasswordHash}\n`;
}

/** The topics a site may publish and the filters it may read, as Mosquitto `topic` rules. */
export function siteAclRules(siteId: string, node?: string): string[] {
  const g = siteGrants(siteId, node);
  return [...g.publish.map((t) => `topic write ${t}`), ...g.subscribe.map((f) => `topic read ${f}`)];
}

export function renderAclFile(creds: SiteCredential[]): string {
  return creds
    .map((c) =>
      [
        `user ${safeName(c.username, 'username')}`,
        ...siteAclRules(safeName(c.siteId, 'site id'), c.node === undefined ? undefined : safeName(c.node, 'node')),
        '',
      ].join('\n'),
    )
    .join('\n');
}

export const HUB_ACL = `user ${HUB_USERNAME}\ntopic readwrite #\n`;

export interface MosquittoConfig {
  dir: string;
  hosts: string[];
  port: number;
  /** Loopback-only listener for the hub's own clients. */
  hubPort: number;
  /** max_packet_size: Mosquitto refuses larger packets (the CONNECT included) before buffering them. */
  maxPacketBytes?: number;
  tls?: { keyFile: string; certFile: string };
}

/**
 * Two kinds of listener: the sites' (their client id forced to their username, so no site can
 * take over another's session) and the hub's (loopback, only the hub user in its password file).
 */
export function renderConfig(c: MosquittoConfig): string {
  const site = (host: string) => [
    `listener ${c.port} ${host}`,
    'allow_anonymous false',
    `password_file ${c.dir}/passwd`,
    `acl_file ${c.dir}/acl`,
    'use_username_as_clientid true',
    ...(c.tls ? [`certfile ${c.tls.certFile}`, `keyfile ${c.tls.keyFile}`, 'tls_version tlsv1.2'] : []),
    '',
  ];
  return [
    '# Written by the Weft hub from its store; edits are overwritten.',
    'per_listener_settings true',
    'persistence true',
    `persistence_location ${c.dir}/data/`,
    // Retained bundles and statuses reach disk within 5 s; a crash loses at most that (the hub republishes).
    'autosave_interval 5',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
    'connection_messages false',
    `max_packet_size ${c.maxPacketBytes ?? 4194304}`,
    '',
    ...c.hosts.flatMap(site),
    `listener ${c.hubPort} 127.0.0.1`,
    'allow_anonymous false',
    `password_file ${c.dir}/hub-passwd`,
    `acl_file ${c.dir}/hub-acl`,
    '',
  ].join('\n');
}
