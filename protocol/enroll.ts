// POST /v1/enroll: the one exchange between a new device and the hub, outside MQTT.
// Since proof v2 the device first fetches a one-time challenge (POST /v1/enroll/challenge) and signs it
// into its proof, so a recorded request cannot be replayed. A v1 proof (no challenge) is still accepted
// with a one-time token, which is its own nonce; a re-enrollment without a token needs v2.

export interface EnrollRequest {
  /** The one-time enrollment token (absent on re-enrollment with an already-known device key). */
  token?: string;
  /** The site name the token was issued for; must match it. */
  siteName: string;
  /**
   * This device's node name in a multi-node site (a DNS label, the k3s node name). Present: the device
   * enrolls as that node, with a node token, and the proof must carry a challenge (v2) and sign the name.
   */
  nodeName?: string;
  /** base64 SPKI DER of the device's Ed25519 identity key. */
  identityPublicKey: string;
  /** WireGuard public key (base64 of the raw 32-byte X25519 key). */
  wireguardPublicKey: string;
  agentVersion: string;
  /** The hub-issued one-time challenge this proof signs (proof v2); absent from agents before it (proof v1). */
  challenge?: string;
  /** Base64 Ed25519 signature, by the identity key, of enrollProofMessage(request): proves possession. */
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
  /**
   * Past one hub machine: every hub node, each a peer of the site's tunnel with its own overlay
   * address. `hubAddresses` (the broker's address, the same on every node) is routed to one of them
   * at a time; the agent moves it to another node when its node stops answering. Absent: one hub.
   */
  hubs?: EnrollHubNode[];
}

/** One hub node a site keeps a WireGuard peer to. */
export interface EnrollHubNode {
  name: string;
  publicKey: string;
  /** host:port of the node's WireGuard listener, as seen from the site. */
  endpoint: string;
  /** The node's own overlay addresses as host routes (10.99.255.254/32, fd00:99::fffe/128). */
  addresses: string[];
}

/** POST /v1/enroll/challenge answer: spend it in one enrollment before it expires. */
export interface EnrollChallenge {
  challenge: string;
  /** ISO-8601, by the hub's clock. */
  expiresAt: string;
}

export interface EnrollResponse {
  siteId: string;
  /** The node this device enrolled as; absent for a one-device site. */
  node?: string;
  broker: {
    /** e.g. mqtts://10.99.0.1:8883 or mqtt://10.99.0.1:1883 (inside the tunnel). */
    url: string;
    /**
     * Every address of a clustered broker (NATS), `url` first: the agent moves to the next one each time
     * its connection drops. Absent with a single broker.
     */
    urls?: string[];
    username: string;
    /** Shown once; the hub stores only its hash. */
    password: string;
  };
  /** Hub bundle-signing keys the agent trusts: base64 SPKI DER by key id. */
  signingKeys: { keyId: string; publicKey: string }[];
  /** The version of that key set (policy/key-set.ts): the agent accepts only signed sets above it. Absent from older hubs (0). */
  signingKeysVersion?: number;
  wireguard: EnrollWireguard;
  heartbeatIntervalS: number;
}

/**
 * The signed text: v1 `${siteName}\n${wireguardPublicKey}\n${token}`, v2 (with a challenge) prefixed and
 * suffixed so neither parses as the other; a node's v2 proof also signs its node name, so a recorded
 * request cannot be replayed as another node of the site.
 */
export function enrollProofMessage(req: Pick<EnrollRequest, 'siteName' | 'wireguardPublicKey' | 'token' | 'challenge' | 'nodeName'>): string {
  const v1 = `${req.siteName}\n${req.wireguardPublicKey}\n${req.token ?? ''}`;
  if (req.challenge === undefined) return v1;
  return `weft-enroll-v2\n${v1}\n${req.challenge}${req.nodeName === undefined ? '' : `\nnode=${req.nodeName}`}`;
}

/** Stable error codes of the enroll endpoint. */
export type EnrollErrorCode =
  | 'ENROLL_TOKEN_INVALID'
  | 'ENROLL_TOKEN_EXPIRED'
  | 'ENROLL_TOKEN_USED'
  | 'ENROLL_SITE_MISMATCH'
  | 'ENROLL_BAD_PROOF'
  | 'ENROLL_KEY_MISMATCH'
  | 'ENROLL_SITE_REVOKED'
  | 'ENROLL_CHALLENGE_REQUIRED'
  | 'ENROLL_CHALLENGE_INVALID'
  | 'ENROLL_WG_KEY_INVALID'
  | 'ENROLL_WG_KEY_IN_USE'
  | 'ENROLL_BUSY'
  | 'ENROLL_NODE_NAME_INVALID'
  | 'ENROLL_SITE_MODE';
