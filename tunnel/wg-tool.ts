// Configures a device with the `wg` tool. The kernel module has no UAPI socket: it is configured
// over generic netlink, which `wg` speaks, so this is the control path of the kernel backend.
// `wg` also speaks UAPI to wireguard-go, which lets the tests exercise this path without the module.
import { run } from './exec.ts';
import { WgPrivateKey } from './keys.ts';
import type { DeviceConfig, DeviceState, PeerState, WgControl } from './model.ts';
import { TunnelError } from './errors.ts';

export class WgToolControl implements WgControl {
  constructor(
    readonly ifname: string,
    readonly netns?: string,
  ) {}

  async set(config: DeviceConfig): Promise<void> {
    // `wg set` always replaces a peer's allowed IPs; to add instead, merge with what is there.
    const current = (config.peers ?? []).some((p) => !p.remove && !p.replaceAllowedIps && p.allowedIps?.length) ? await this.get() : undefined;
    if (config.replacePeers) {
      const keep = new Set((config.peers ?? []).map((p) => p.publicKey));
      const stale = (current ?? (await this.get())).peers.filter((p) => !keep.has(p.publicKey));
      if (stale.length) await this.set({ peers: stale.map((p) => ({ publicKey: p.publicKey, remove: true })) });
    }
    const args = ['wg', 'set', this.ifname];
    if (config.privateKey) args.push('private-key', '/dev/stdin');
    if (config.listenPort !== undefined) args.push('listen-port', String(config.listenPort));
    for (const peer of config.peers ?? []) {
      args.push('peer', peer.publicKey);
      if (peer.remove) {
        args.push('remove');
        continue;
      }
      if (peer.endpoint !== undefined) args.push('endpoint', peer.endpoint);
      if (peer.persistentKeepaliveS !== undefined)
        args.push('persistent-keepalive', peer.persistentKeepaliveS === 0 ? 'off' : String(peer.persistentKeepaliveS));
      if (peer.allowedIps !== undefined) {
        const had = peer.replaceAllowedIps ? [] : (current?.peers.find((p) => p.publicKey === peer.publicKey)?.allowedIps ?? []);
        args.push('allowed-ips', [...new Set([...had, ...peer.allowedIps])].join(','));
      }
    }
    await run(args, { netns: this.netns, input: config.privateKey ? `${config.privateKey.revealBase64()}\n` : undefined });
  }

  async get(): Promise<DeviceState> {
    return parseWgDump((await run(['wg', 'show', this.ifname, 'dump'], { netns: this.netns })).stdout);
  }
}

/**
 * Parses `wg show <if> dump`: a device line (private key, public key, port, fwmark) and one
 * tab-separated line per peer (key, psk, endpoint, allowed ips, handshake s, rx, tx, keepalive).
 */
export function parseWgDump(text: string): DeviceState {
  const [device, ...peerLines] = text.split('\n').filter((l) => l !== '');
  const d = device?.split('\t');
  if (!d || d.length < 4) throw new TunnelError('TUNNEL_COMMAND_FAILED', 'wg show dump printed no device line');
  const state: DeviceState = { publicKey: d[0] === '(none)' ? null : WgPrivateKey.fromBase64(d[0]).publicKey(), listenPort: Number(d[2]), peers: [] };
  for (const line of peerLines) {
    const f = line.split('\t');
    if (f.length < 8) throw new TunnelError('TUNNEL_COMMAND_FAILED', `wg show dump peer line has ${f.length} fields, expected 8`);
    const peer: PeerState = {
      publicKey: f[0],
      endpoint: f[2] === '(none)' ? null : f[2],
      allowedIps: f[3] === '(none)' ? [] : f[3].split(','),
      lastHandshakeMs: f[4] === '0' ? null : Number(f[4]) * 1000,
      rxBytes: Number(f[5]),
      txBytes: Number(f[6]),
      persistentKeepaliveS: f[7] === 'off' ? 0 : Number(f[7]),
    };
    state.peers.push(peer);
  }
  return state;
}
