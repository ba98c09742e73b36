// The hub's MQTT broker behind one interface: embedded aedes (default, in the hub process) or a
// supervised Mosquitto (production option). The hub store decides who may connect; the broker
// enforces protocol/topics.ts siteMayPublish/siteMaySubscribe for every site client.
//
// Clients must speak MQTT 3.1.1 (mqtt.js protocolVersion: 4): aedes 1.x has no MQTT 5 and refuses a
// v5 CONNECT with return code 1. Persistent sessions (clean: false) work in 3.1.1. A site's client id
// must be its site id (or `<siteId>.<suffix>`); the embedded broker refuses any other, and Mosquitto
// forces client id = username.
import { WeftError } from '../../base/index.ts';
import type { EventEmitter } from 'node:events';
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

type MaybePromise<T> = T | Promise<T>;

export interface BrokerTls {
  /** PEM private key and certificate chain of the broker (the hub CA issues it). */
  key: string | Buffer;
  cert: string | Buffer;
}

/** Who may connect; provided by the hub store. */
export interface BrokerAuth {
  /**
   * Checks a site's broker credentials (username, password as given in the enrollment response).
   * null refuses the connection. The store keeps only the hash: use verifyPassword() from
   * hub/broker/password.ts, whose `$7$` format Mosquitto reads too.
   */
  authenticate(username: string, password: string): MaybePromise<{ siteId: string; node?: string } | null>;
  /** A revoked site (or node) is refused even with a correct password. */
  isRevoked(siteId: string, node?: string): MaybePromise<boolean>;
}

export interface BrokerStartOptions {
  /** Addresses to listen on: loopback and the tunnel's overlay address. Default ['127.0.0.1']. */
  hosts?: string[];
  /** 0 picks a free port (the same port on every host). Default 0. */
  port?: number;
  /** When given, the broker speaks MQTT over TLS only (mqtts://). */
  tls?: BrokerTls;
  auth: BrokerAuth;
  logger?: Logger;
  /** prom-client registry for broker metrics (connections, refusals, ACL denials). */
  registry?: Registry;
  /** What one client may cost the broker before it is cut off; defaults in BROKER_LIMITS. */
  limits?: Partial<BrokerLimits>;
}

export interface BrokerLimits {
  /** Largest MQTT packet once connected (Mosquitto: max_packet_size). */
  maxPacketBytes: number;
  /** Largest CONNECT, the one packet anyone may send unauthenticated (embedded broker). */
  maxConnectBytes: number;
  /** Open connections from one source address (embedded broker; Mosquitto has no such setting). */
  maxConnectionsPerAddress: number;
  /** Exempt from the per-address cap: the hub's own clients and local tools come from loopback. */
  uncappedAddresses: string[];
}

export const BROKER_LIMITS: BrokerLimits = {
  maxPacketBytes: 4 * 1024 * 1024,
  maxConnectBytes: 64 * 1024,
  maxConnectionsPerAddress: 32,
  uncappedAddresses: ['127.0.0.1', '::1', '::ffff:127.0.0.1'],
};

/** One stored site credential, for brokers that read credentials from files (Mosquitto). */
export interface SiteCredential {
  siteId: string;
  /** A node of a multi-node site (username `<siteId>.<node>`). */
  node?: string;
  username: string;
  /** hashPassword() output, `$7$<iterations>$<salt b64>$<hash b64>` (PBKDF2-SHA512). */
  passwordHash: string;
}

export interface MosquittoStartOptions extends BrokerStartOptions {
  /** Work directory for mosquitto.conf, the password file and the ACL file (created 0700). */
  dir: string;
  /** Every site credential in the store; revoked ones are left out of the password file. */
  credentials(): MaybePromise<SiteCredential[]>;
  /** Path of the mosquitto binary. Default: mosquitto on PATH, then /usr/sbin/mosquitto. */
  binary?: string;
}

/**
 * Broker events: 'up' (siteId, node?) and 'down' (siteId, node?) for site sessions (embedded broker only), and
 * 'restarted' () when a supervised Mosquitto came back after a crash: retained messages since its
 * last autosave (5 s) may be gone, so the hub republishes its retained bundles.
 */
export type SessionEvents = EventEmitter;

export interface Broker {
  readonly kind: 'aedes' | 'mosquitto' | 'nats';
  /** The bound port (resolved when port 0 was asked). */
  readonly port: number;
  readonly hosts: string[];
  /** mqtt://host:port or mqtts://host:port for the first host (or the one given). */
  url(host?: string): string;
  /** The hub's own full-access credentials: a random secret generated per process, never stored. */
  readonly hubCredentials: { username: string; password: string };
  /**
   * A new connected mqtt.js client with full access (its own client id); resolves once CONNACK
   * arrives. Each consumer (rollout, health monitor, ingest) takes its own; close() ends them all.
   */
  hubClient(): Promise<MqttClient>;
  /**
   * Publishes from inside the broker's own process, when it lives in the hub's (aedes): no client, no
   * socket, no PUBACK round trip, the same routing, retained store and delivery as a client's publish.
   * Absent for brokers in another process: use hubClient().
   */
  publishLocal?(topic: string, payload: Buffer, opts: { qos: 0 | 1; retain: boolean }): Promise<void>;
  /**
   * Closes the site's sessions now and refuses it from then on (until the process restarts). A site id
   * covers the site's nodes too; `<siteId>.<node>` only that node.
   */
  kick(siteId: string): Promise<void>;
  /** For brokers fed from files: rewrite them from the store and reload. No-op for aedes. */
  sync(): Promise<void>;
  /** Site ids with a connected session (`<siteId>.<node>` for a node of a multi-node site). */
  connectedSites(): string[];
  readonly sessions: SessionEvents;
  close(): Promise<void>;
}

export type BrokerErrorCode =
  | 'BROKER_CLOSED'
  | 'BROKER_LISTEN'
  | 'BROKER_MOSQUITTO_MISSING'
  | 'BROKER_MOSQUITTO_START'
  | 'BROKER_HUB_CLIENT'
  | 'BROKER_NATS_MISSING'
  | 'BROKER_NATS_START'
  | 'BROKER_NATS_CONFIG';

export class BrokerError extends WeftError<BrokerErrorCode> {
  override readonly name = 'BrokerError';
}

/** Username of the hub's own client; no site may be named like this (site ids are [a-z0-9-], no underscore). */
export const HUB_USERNAME = '_weft_hub';
