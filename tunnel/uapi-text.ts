// The text of WireGuard's cross-platform configuration protocol
// (https://www.wireguard.com/xplatform/): `set=1` / `get=1` requests of key=value lines ending in a
// blank line, keys in hex, and an `errno=N` line closing every reply. Pure, so it is tested on strings.
import { errnoName, isErrno } from '../base/index.ts';
import { TunnelError } from './errors.ts';
import { hexToKey, keyToHex, WgPrivateKey } from './keys.ts';
import type { DeviceConfig, DeviceState, PeerState } from './model.ts';

export const GET_REQUEST = 'get=1\n\n';

function checkPort(port: number, what: string): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new TunnelError('TUNNEL_BAD_CONFIG', `${what} ${port} is not a port`, 'a port is an integer 0..65535');
  return port;
}

export function formatSet(config: DeviceConfig): string {
  const lines = ['set=1'];
  if (config.privateKey) lines.push(`private_key=${config.privateKey.revealHex()}`);
  if (config.listenPort !== undefined) lines.push(`listen_port=${checkPort(config.listenPort, 'listen port')}`);
  if (config.replacePeers) lines.push('replace_peers=true');
  for (const [i, peer] of (config.peers ?? []).entries()) {
    lines.push(`public_key=${keyToHex(peer.publicKey, `peers[${i}].publicKey`)}`);
    if (peer.remove) {
      lines.push('remove=true');
      continue;
    }
    if (peer.endpoint !== undefined) lines.push(`endpoint=${peer.endpoint}`);
    if (peer.persistentKeepaliveS !== undefined)
      lines.push(`persistent_keepalive_interval=${checkPort(peer.persistentKeepaliveS, `peers[${i}].persistentKeepaliveS`)}`);
    if (peer.replaceAllowedIps) lines.push('replace_allowed_ips=true');
    for (const ip of peer.allowedIps ?? []) lines.push(`allowed_ip=${ip}`);
  }
  return `${lines.join('\n')}\n\n`;
}

/** The errno of a reply; a non-zero one becomes a TUNNEL_UAPI_ERRNO error. */
export function checkErrno(reply: string, request: 'get' | 'set'): void {
  const m = /(?:^|\n)errno=(-?\d+)\n/.exec(reply);
  if (!m)
    throw new TunnelError(
      'TUNNEL_UAPI_PROTOCOL',
      `UAPI ${request} reply has no errno line`,
      'the socket is not a WireGuard UAPI socket, or the daemon closed it early',
    );
  const code = Number(m[1]);
  if (code !== 0) {
    throw new TunnelError(
      'TUNNEL_UAPI_ERRNO',
      `UAPI ${request} failed with errno ${code}${errnoName(code) ? ` (${errnoName(code)})` : ''}`,
      isErrno(code, 'EINVAL') ? 'the device rejected a value (EINVAL): check keys, endpoints and allowed IPs' : undefined,
      { errno: code },
    );
  }
}

export function parseGet(reply: string): DeviceState {
  checkErrno(reply, 'get');
  const state: DeviceState = { publicKey: null, listenPort: 0, peers: [] };
  let peer: PeerState | undefined;
  let sec = 0;
  let nsec = 0;
  const finishPeer = () => {
    if (peer) peer.lastHandshakeMs = sec === 0 && nsec === 0 ? null : sec * 1000 + Math.floor(nsec / 1e6);
    sec = 0;
    nsec = 0;
  };
  for (const line of reply.split('\n')) {
    if (line === '') continue;
    const eq = line.indexOf('=');
    if (eq < 1) throw new TunnelError('TUNNEL_UAPI_PROTOCOL', `UAPI get reply line "${line}" is not key=value`);
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    switch (key) {
      case 'private_key':
        state.publicKey = WgPrivateKey.fromBase64(hexToKey(value, 'private_key')).publicKey();
        break;
      case 'listen_port':
        state.listenPort = Number(value);
        break;
      case 'public_key':
        finishPeer();
        peer = {
          publicKey: hexToKey(value, 'public_key'),
          endpoint: null,
          allowedIps: [],
          lastHandshakeMs: null,
          rxBytes: 0,
          txBytes: 0,
          persistentKeepaliveS: 0,
        };
        state.peers.push(peer);
        break;
      case 'endpoint':
        if (peer) peer.endpoint = value;
        break;
      case 'allowed_ip':
        peer?.allowedIps.push(value);
        break;
      case 'last_handshake_time_sec':
        sec = Number(value);
        break;
      case 'last_handshake_time_nsec':
        nsec = Number(value);
        break;
      case 'rx_bytes':
        if (peer) peer.rxBytes = Number(value);
        break;
      case 'tx_bytes':
        if (peer) peer.txBytes = Number(value);
        break;
      case 'persistent_keepalive_interval':
        if (peer) peer.persistentKeepaliveS = Number(value);
        break;
      default:
        // fwmark, protocol_version, preshared_key, errno: not part of our model
        break;
    }
  }
  finishPeer();
  return state;
}
