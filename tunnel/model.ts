// The device model shared by both control paths (UAPI socket and the `wg` tool).
import type { WgPrivateKey } from './keys.ts';

export interface PeerConfig {
  /** base64 public key of the peer. */
  publicKey: string;
  /** Remove this peer; every other field is ignored. */
  remove?: boolean;
  /** "ip:port" or "[ipv6]:port"; numeric only (WireGuard does not resolve names). */
  endpoint?: string;
  allowedIps?: string[];
  /** Replace the peer's allowed IPs instead of adding to them. */
  replaceAllowedIps?: boolean;
  /** 0 turns keepalives off. */
  persistentKeepaliveS?: number;
}

export interface DeviceConfig {
  privateKey?: WgPrivateKey;
  listenPort?: number;
  /** Remove every peer not listed in this change. */
  replacePeers?: boolean;
  peers?: PeerConfig[];
}

export interface PeerState {
  publicKey: string;
  endpoint: string | null;
  allowedIps: string[];
  /** Epoch milliseconds of the latest handshake, null when there has been none. */
  lastHandshakeMs: number | null;
  rxBytes: number;
  txBytes: number;
  persistentKeepaliveS: number;
}

export interface DeviceState {
  /** Derived from the private key; null when the device has none yet. */
  publicKey: string | null;
  listenPort: number;
  peers: PeerState[];
}

/** How a device is configured and read; one implementation per control path. */
export interface WgControl {
  set(config: DeviceConfig): Promise<void>;
  get(): Promise<DeviceState>;
}

/** Seconds since the last handshake, null when none happened yet. */
export function handshakeAgeS(lastHandshakeMs: number | null, nowMs: number): number | null {
  if (lastHandshakeMs === null) return null;
  return Math.max(0, Math.round(nowMs - lastHandshakeMs) / 1000);
}
