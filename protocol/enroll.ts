// POST /v1/enroll: the one exchange between a new device and the hub, outside MQTT.

export interface EnrollRequest {
  /** The one-time enrollment token (absent on re-enrollment with an already-known device key). */
  token?: string;
  /** The site name the token was issued for; must match it. */
  siteName: string;
  /** base64 SPKI DER of the device's Ed25519 identity key. */
  identityPublicKey: string;
  /** WireGuard public key (base64 of the raw 32-byte X25519 key). */
  wireguardPublicKey: string;
  agentVersion: string;
  /** Base64 Ed25519 signature, by the identity key, of `${siteName}\n${wireguardPublicKey}\n${token ?? ''}`: proves possession. */
  proof: string;
}

/**
 * The site's WireGuard settings from enrollment, defined once here: the tunnel configures its one peer
 * from it (tunnel/ SiteTunnelConfig) and the offline store keeps it (offline-store/ WireguardSettings).
 */
export interface EnrollWireguard {
  hubPublicKey: string;
  /** host:port of the hub's WireGuard listener, as seen from the site; a host name is resolved once at tunnel up. */
  hubEndpoint: string;
  /** The site's overlay addresses with prefix, e.g. 10.99.0.2/32 and fd00:99::2/128. */
  addresses: string[];
  /** The hub's overlay address(es) the agent routes through the tunnel. */
  hubAddresses: string[];
  persistentKeepaliveS: number;
  mtu: number;
}

export interface EnrollResponse {
  siteId: string;
  broker: {
    /** e.g. mqtts://10.99.0.1:8883 or mqtt://10.99.0.1:1883 (inside the tunnel). */
    url: string;
    username: string;
    /** Shown once; the hub stores only its hash. */
    password: string;
  };
  /** Hub bundle-signing keys the agent trusts: base64 SPKI DER by key id. */
  signingKeys: { keyId: string; publicKey: string }[];
  wireguard: EnrollWireguard;
  heartbeatIntervalS: number;
}

export function enrollProofMessage(req: Pick<EnrollRequest, 'siteName' | 'wireguardPublicKey' | 'token'>): string {
  return `${req.siteName}\n${req.wireguardPublicKey}\n${req.token ?? ''}`;
}

/** Stable error codes of the enroll endpoint. */
export type EnrollErrorCode =
  | 'ENROLL_TOKEN_INVALID'
  | 'ENROLL_TOKEN_EXPIRED'
  | 'ENROLL_TOKEN_USED'
  | 'ENROLL_SITE_MISMATCH'
  | 'ENROLL_BAD_PROOF'
  | 'ENROLL_KEY_MISMATCH'
  | 'ENROLL_SITE_REVOKED';
